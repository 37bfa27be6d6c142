-- name: editor_completions
-- Schemas, relations and columns of the target for the SQL editor's autocomplete (system schemas excluded).
SELECT n.nspname AS schema, c.relname AS relation, c.relkind::text AS kind, a.attname AS column,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%%' AND n.nspname NOT LIKE 'pg_toast_temp%%'
ORDER BY n.nspname, c.relname, a.attnum
LIMIT %(limit)s

-- name: editor_tx_commit
-- Commit a dba's explicit transaction.
COMMIT

-- name: editor_tx_rollback
-- Roll back a dba's explicit transaction.
ROLLBACK

-- name: editor_tx_probe
-- A no-op round trip that surfaces why the server ended an idle transaction.
SELECT 1
