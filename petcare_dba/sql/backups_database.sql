-- Whole-database backups (issue 18): what pg_dump's client must match, and the catalogue rows.

-- name: dump_server_info
-- The target's version, database and how many tables hold data (progress of pg_dump/pg_restore).
SELECT current_setting('server_version_num')::int AS version,
       current_database() AS database,
       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%%')::int AS tables

-- name: backup_insert_database
-- Record a whole-database backup as running before pg_dump starts.
INSERT INTO petcare.table_backups (connection_id, connection_name, schema_name, table_name,
                                   kind, created_by, created_by_name)
VALUES (%(connection_id)s, %(connection_name)s, '', %(database)s, 'database', %(user_id)s,
        %(username)s)
RETURNING id, created_at
