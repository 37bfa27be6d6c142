-- name: history_recent
-- The newest executions visible to the current user (own; project members; admins all).
SELECT e.started_at, u.username AS "user", c.name AS connection, e.outcome, e.classification,
       e.duration_ms, e.rows_affected, e.sqlstate, e.sql_text, e.message
FROM petcare.execucoes_scripts e
JOIN petcare.users u ON u.id = e.user_id
LEFT JOIN petcare.connections c ON c.id = e.connection_id
ORDER BY e.started_at DESC, e.id DESC LIMIT %(limit)s
