-- name: script_list
-- Scripts of a project (live or soft-deleted ones) with their latest version, by name.
SELECT s.id, s.project_id, s.name, s.description, s.tags, c.name AS default_connection,
       s.current_version, s.created_at, s.updated_at, u.username AS updated_by, s.deleted_at,
       v.content_hash, v.created_at AS version_at, a.username AS version_author
FROM petcare.scripts_projetos s
LEFT JOIN petcare.script_versions v ON v.script_id = s.id AND v.version = s.current_version
LEFT JOIN petcare.users u ON u.id = s.updated_by
LEFT JOIN petcare.users a ON a.id = v.author_id
LEFT JOIN petcare.connections c ON c.id = s.default_connection_id
WHERE s.project_id = %(project_id)s AND ((s.deleted_at IS NOT NULL) = %(deleted)s)
ORDER BY lower(s.name), s.id

-- name: script_find
-- Ids of a project's scripts with this name: the live one first, then deleted ones, newest first.
SELECT s.id, s.deleted_at IS NOT NULL AS deleted
FROM petcare.scripts_projetos s
WHERE s.project_id = %(project_id)s AND lower(s.name) = lower(%(name)s)
ORDER BY (s.deleted_at IS NOT NULL), s.deleted_at DESC, s.id DESC

-- name: script_get
-- One visible script by id with its latest version's metadata.
SELECT s.id, s.project_id, s.name, s.description, s.tags, c.name AS default_connection,
       s.current_version, s.created_at, s.updated_at, u.username AS updated_by, s.deleted_at,
       v.content_hash, v.created_at AS version_at, a.username AS version_author
FROM petcare.scripts_projetos s
LEFT JOIN petcare.script_versions v ON v.script_id = s.id AND v.version = s.current_version
LEFT JOIN petcare.users u ON u.id = s.updated_by
LEFT JOIN petcare.users a ON a.id = v.author_id
LEFT JOIN petcare.connections c ON c.id = s.default_connection_id
WHERE s.id = %(script_id)s

-- name: script_lock
-- Lock a writable script row for a save and return its latest version number.
SELECT s.current_version FROM petcare.scripts_projetos s
WHERE s.id = %(script_id)s AND s.deleted_at IS NULL
FOR UPDATE

-- name: script_insert
-- A new script in a project (RLS: owner or editor of an active project).
INSERT INTO petcare.scripts_projetos (project_id, name, description, tags, default_connection_id,
                                      created_by)
VALUES (%(project_id)s, %(name)s, %(description)s, %(tags)s, %(connection_id)s,
        (SELECT petcare.current_user_id()))
RETURNING id

-- name: script_update_meta
-- Change a script's name, description, tags and default connection.
UPDATE petcare.scripts_projetos
SET name = %(name)s, description = %(description)s, tags = %(tags)s,
    default_connection_id = CASE WHEN %(keep_connection)s THEN default_connection_id
                                 ELSE %(connection_id)s::bigint END
WHERE id = %(script_id)s
RETURNING id

-- name: script_set_deleted
-- Soft-delete (deleted true) or restore (false) a script; versions are kept either way.
UPDATE petcare.scripts_projetos
SET deleted_at = CASE WHEN %(deleted)s THEN now() END
WHERE id = %(script_id)s AND ((deleted_at IS NULL) = %(deleted)s)
RETURNING id

-- name: script_connection_id
-- The id of a connection visible to the current user, by name.
SELECT c.id FROM petcare.connections c WHERE c.name = %(name)s

-- name: version_insert
-- A new immutable version (number, hash and time are set by the database's trigger).
INSERT INTO petcare.script_versions (script_id, version, content, content_hash, message, author_id)
VALUES (%(script_id)s, %(version)s, %(content)s, '', %(message)s,
        (SELECT petcare.current_user_id()))
RETURNING id, version

-- name: version_get
-- One version of a script with its content and author.
SELECT v.id, v.script_id, v.version, v.content, v.content_hash, v.message, u.username AS author,
       v.created_at
FROM petcare.script_versions v
JOIN petcare.users u ON u.id = v.author_id
WHERE v.script_id = %(script_id)s AND v.version = %(version)s

-- name: version_list
-- The history of a script, newest version first (content included for export and diff).
SELECT v.id, v.script_id, v.version, v.content, v.content_hash, v.message, u.username AS author,
       v.created_at
FROM petcare.script_versions v
JOIN petcare.users u ON u.id = v.author_id
WHERE v.script_id = %(script_id)s
ORDER BY v.version DESC

-- name: script_runs
-- Runs of a script's versions (optionally one version): who, when, where, how long, outcome.
SELECT e.id, e.started_at, u.username, c.name AS connection, v.version, e.statement_index,
       e.outcome, e.duration_ms, e.rows_affected, e.sqlstate, e.message
FROM petcare.script_versions v
JOIN petcare.execucoes_scripts e ON e.script_version_id = v.id
JOIN petcare.users u ON u.id = e.user_id
LEFT JOIN petcare.connections c ON c.id = e.connection_id
WHERE v.script_id = %(script_id)s AND (%(version)s::integer IS NULL OR v.version = %(version)s)
ORDER BY e.started_at DESC, e.id DESC
LIMIT %(limit)s
