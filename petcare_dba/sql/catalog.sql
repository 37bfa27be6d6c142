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

-- name: list_tables
-- Tables, partitioned tables, views and materialised views with sizes and estimates.
SELECT n.nspname AS schema, c.relname AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
            WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
            WHEN 'f' THEN 'foreign table' END AS kind,
       greatest(c.reltuples, 0)::bigint AS estimated_rows,
       pg_catalog.pg_total_relation_size(c.oid) AS total_bytes,
       c.relrowsecurity AS rls_enabled,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%%' AND n.nspname NOT LIKE 'pg\_temp%%'
  AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
ORDER BY n.nspname, c.relname

-- name: activity_by_state
-- Sessions of this database by state (monitoring overview).
SELECT coalesce(state, 'background') AS state, count(*) AS sessions,
       coalesce(max(extract(epoch FROM now() - query_start)) FILTER (WHERE state = 'active'), 0)
           AS longest_active_s
FROM pg_catalog.pg_stat_activity
WHERE datname = pg_catalog.current_database()
GROUP BY 1 ORDER BY 2 DESC, 1

-- name: database_stats
-- Cumulative counters of this database (cache hit ratio, transactions, deadlocks).
SELECT xact_commit, xact_rollback, blks_read, blks_hit,
       round(100.0 * blks_hit / nullif(blks_hit + blks_read, 0), 2) AS cache_hit_pct,
       deadlocks, temp_bytes, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted
FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()
