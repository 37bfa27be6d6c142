-- name: target_overview
-- Version, size and object counts of the connected database (dashboard, connection test).
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       pg_catalog.current_database() AS database,
       current_user AS login_role,
       pg_catalog.pg_database_size(pg_catalog.current_database()) AS database_bytes,
       (SELECT count(*) FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\_toast%%') AS table_count,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity
         WHERE datname = pg_catalog.current_database()) AS sessions,
       pg_catalog.pg_postmaster_start_time() AS started_at
