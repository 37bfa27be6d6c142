-- name: project_insert
-- A new project owned by the current user (membros is recomputed by the projects_guard trigger).
INSERT INTO petcare.projetos_analytics (name, description, created_by, owner_id, membros)
VALUES (%(name)s, %(description)s, %(username)s, %(user_id)s, ARRAY[%(username)s])
RETURNING id

-- name: project_add_owner
-- The creator becomes the project's first member with the owner role.
INSERT INTO petcare.project_members (project_id, user_id, role, added_by)
VALUES (%(project_id)s, %(user_id)s, 'owner', %(user_id)s)

-- name: project_list
-- Projects the current user belongs to (every visible one when all), filtered, newest activity first.
SELECT p.id, p.name, p.description, p.status, p.created_by, o.username AS owner, p.owner_id,
       p.created_at, p.updated_at, e.username AS updated_by, p.membros,
       (SELECT count(*) FROM petcare.scripts_projetos s
         WHERE s.project_id = p.id AND s.deleted_at IS NULL) AS scripts,
       m.role AS my_role
FROM petcare.projetos_analytics p
LEFT JOIN petcare.project_members m
       ON m.project_id = p.id AND m.user_id = (SELECT petcare.current_user_id())
JOIN petcare.users o ON o.id = p.owner_id
LEFT JOIN petcare.users e ON e.id = p.updated_by
WHERE (%(all)s OR m.user_id IS NOT NULL)
  AND (%(archived)s OR p.status = 'active')
  AND (%(search)s::text IS NULL OR p.name ILIKE %(search)s OR p.description ILIKE %(search)s)
ORDER BY p.updated_at DESC, p.id DESC
LIMIT %(limit)s

-- name: project_get
-- One visible project by id, with the current user's role in it.
SELECT p.id, p.name, p.description, p.status, p.created_by, o.username AS owner, p.owner_id,
       p.created_at, p.updated_at, e.username AS updated_by, p.membros,
       (SELECT count(*) FROM petcare.scripts_projetos s
         WHERE s.project_id = p.id AND s.deleted_at IS NULL) AS scripts,
       m.role AS my_role
FROM petcare.projetos_analytics p
LEFT JOIN petcare.project_members m
       ON m.project_id = p.id AND m.user_id = (SELECT petcare.current_user_id())
JOIN petcare.users o ON o.id = p.owner_id
LEFT JOIN petcare.users e ON e.id = p.updated_by
WHERE p.id = %(project_id)s

-- name: project_find
-- Ids of visible projects with this name (case-insensitive), the user's own and member ones first.
SELECT p.id
FROM petcare.projetos_analytics p
LEFT JOIN petcare.project_members m
       ON m.project_id = p.id AND m.user_id = (SELECT petcare.current_user_id())
WHERE lower(p.name) = lower(%(name)s)
ORDER BY (m.user_id IS NULL), p.id

-- name: project_rename
-- Rename a project (RLS: owner or admin).
UPDATE petcare.projetos_analytics SET name = %(name)s WHERE id = %(project_id)s RETURNING id

-- name: project_describe
-- Change a project's description (RLS: owner or admin).
UPDATE petcare.projetos_analytics SET description = %(description)s
WHERE id = %(project_id)s RETURNING id

-- name: project_set_status
-- Archive or reactivate a project (RLS: owner or admin).
UPDATE petcare.projetos_analytics SET status = %(status)s WHERE id = %(project_id)s RETURNING id

-- name: project_delete
-- Delete an archived project with its scripts and versions (RLS: owner or admin, archived only).
DELETE FROM petcare.projetos_analytics WHERE id = %(project_id)s RETURNING id

-- name: project_set_owner
-- Move owner_id to a user who already holds the owner role in project_members.
UPDATE petcare.projetos_analytics SET owner_id = %(user_id)s WHERE id = %(project_id)s RETURNING id

-- name: project_member_list
-- Members of a project with their roles, owner first.
SELECT u.username, u.display_name, m.role, m.added_at, a.username AS added_by
FROM petcare.project_members m
JOIN petcare.users u ON u.id = m.user_id
LEFT JOIN petcare.users a ON a.id = m.added_by
WHERE m.project_id = %(project_id)s
ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, lower(u.username)

-- name: project_user_id
-- The id of an enabled user by name (case-insensitive).
SELECT u.id FROM petcare.users u WHERE lower(u.username) = lower(%(username)s) AND NOT u.disabled

-- name: project_member_add
-- Add a member with a role (RLS: project owner or admin).
INSERT INTO petcare.project_members (project_id, user_id, role, added_by)
VALUES (%(project_id)s, %(user_id)s, %(role)s, (SELECT petcare.current_user_id()))
ON CONFLICT (project_id, user_id) DO NOTHING
RETURNING user_id

-- name: project_member_set_role
-- Change a member's role (RLS: project owner or admin).
UPDATE petcare.project_members SET role = %(role)s
WHERE project_id = %(project_id)s AND user_id = %(user_id)s
RETURNING user_id

-- name: project_member_remove
-- Remove a member (RLS: project owner or admin, or the member leaving).
DELETE FROM petcare.project_members
WHERE project_id = %(project_id)s AND user_id = %(user_id)s
RETURNING user_id

-- name: project_activity
-- The latest change in a project (the project itself or any script): when, by whom, what.
SELECT x.at, u.username, x.what, x.version
FROM (SELECT p.updated_at AS at, p.updated_by AS who, p.name AS what, NULL::integer AS version
      FROM petcare.projetos_analytics p WHERE p.id = %(project_id)s
      UNION ALL
      SELECT s.updated_at, s.updated_by, s.name, s.current_version
      FROM petcare.scripts_projetos s WHERE s.project_id = %(project_id)s) x
LEFT JOIN petcare.users u ON u.id = x.who
ORDER BY x.at DESC, x.what
LIMIT 1

-- name: project_imports_last_hour
-- Project imports a user completed in the last hour (imports_per_hour; own audit rows, RLS).
SELECT count(*) FROM petcare.audit_log
WHERE user_id = %(user_id)s AND action = 'project.import' AND outcome = 'ok'
  AND at > now() - interval '1 hour'
