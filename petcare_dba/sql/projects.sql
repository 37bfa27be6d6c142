-- name: project_insert
-- A new project owned by the current user (seed columns created_by/membros kept).
INSERT INTO petcare.projetos_analytics (name, description, created_by, owner_id, membros)
VALUES (%(name)s, %(description)s, %(username)s, %(user_id)s, ARRAY[%(username)s])
RETURNING id

-- name: project_add_owner
-- The creator becomes the project's first member with the owner role.
INSERT INTO petcare.project_members (project_id, user_id, role, added_by)
VALUES (%(project_id)s, %(user_id)s, 'owner', %(user_id)s)

-- name: project_list
-- Projects the current user may see (RLS: owner, member or admin), newest activity first.
SELECT p.id, p.name, p.description, p.status, p.created_by, p.updated_at,
       (SELECT count(*) FROM petcare.scripts_projetos s
         WHERE s.project_id = p.id AND s.deleted_at IS NULL) AS scripts,
       coalesce(petcare.project_role(p.id), CASE WHEN petcare.is_admin() THEN 'admin' END)
           AS my_role
FROM petcare.projetos_analytics p
WHERE (%(search)s::text IS NULL OR p.name ILIKE '%%' || %(search)s || '%%')
ORDER BY p.updated_at DESC, p.id DESC
