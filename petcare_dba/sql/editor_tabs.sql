-- name: editor_tabs_list
-- The current user's editor tabs in display order, with the name of each tab's connection.
SELECT t.id, t.name, t.content, c.name AS connection, t.position, t.updated_at, t.selected_at
FROM petcare.editor_tabs t
LEFT JOIN petcare.connections c ON c.id = t.connection_id
WHERE t.user_id = (SELECT petcare.current_user_id())
ORDER BY t.position, t.id

-- name: editor_tabs_open
-- Open a tab for the current user unless they already have %(max_tabs)s; the new tab's id, or no row.
INSERT INTO petcare.editor_tabs (user_id, name, content, connection_id, position)
SELECT (SELECT petcare.current_user_id()), %(name)s, %(content)s,
       (SELECT c.id FROM petcare.connections c WHERE c.name = %(connection)s),
       coalesce(max(position) + 1, 0)
FROM petcare.editor_tabs
WHERE user_id = (SELECT petcare.current_user_id())
HAVING count(*) < %(max_tabs)s
RETURNING id

-- name: editor_tabs_save
-- Save a tab's text and connection (a connection the user cannot see becomes NULL; only the current user's own tab matches); the id when found.
UPDATE petcare.editor_tabs
SET content = %(content)s, updated_at = now(),
    connection_id = (SELECT c.id FROM petcare.connections c WHERE c.name = %(connection)s)
WHERE id = %(id)s AND user_id = (SELECT petcare.current_user_id())
RETURNING id

-- name: editor_tabs_rename
-- Rename one of the current user's tabs; the id when found.
UPDATE petcare.editor_tabs SET name = %(name)s, updated_at = now()
WHERE id = %(id)s AND user_id = (SELECT petcare.current_user_id())
RETURNING id

-- name: editor_tabs_select
-- Mark one of the current user's tabs as the one they look at; the id when found.
UPDATE petcare.editor_tabs SET selected_at = clock_timestamp()
WHERE id = %(id)s AND user_id = (SELECT petcare.current_user_id())
RETURNING id

-- name: editor_tabs_close
-- Close (delete) one of the current user's tabs; the id when found.
DELETE FROM petcare.editor_tabs
WHERE id = %(id)s AND user_id = (SELECT petcare.current_user_id())
RETURNING id
