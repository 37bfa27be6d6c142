-- Indexes never scanned since statistics were last reset, larger than
-- advisor_unused_index_bytes, that enforce nothing (not unique, not a primary key or exclusion
-- constraint). Check replicas before dropping: their scans are not counted here. The user's
-- indexes are chosen first (MATERIALIZED): the planner would otherwise measure catalog indexes
-- too, and wait on any lock held on a catalog.
WITH p AS (SELECT %(advisor_unused_index_bytes)s::bigint AS min_bytes),
s AS MATERIALIZED (
    SELECT s.schemaname, s.relname, s.indexrelname, s.indexrelid
    FROM pg_catalog.pg_stat_user_indexes s
    JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
    WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion)
SELECT 'unused_indexes' AS name,
       'Unused index' AS title,
       'INFO' AS level,
       'performance' AS category,
       pg_catalog.format('%%I.%%I', s.schemaname, s.indexrelname) AS object,
       pg_catalog.format('index %%I on %%I.%%I (%%s) has not been scanned since %%s', s.indexrelname,
           s.schemaname, s.relname,
           pg_catalog.pg_size_pretty(pg_catalog.pg_relation_size(s.indexrelid)),
           coalesce((SELECT d.stats_reset::text FROM pg_catalog.pg_stat_database d
                      WHERE d.datname = pg_catalog.current_database()), 'the statistics began'))
           AS detail,
       pg_catalog.format('DROP INDEX CONCURRENTLY %%I.%%I;', s.schemaname, s.indexrelname)
           AS remediation,
       pg_catalog.format('unused_indexes:%%s.%%s', s.schemaname, s.indexrelname) AS cache_key
FROM s, p
WHERE pg_catalog.pg_relation_size(s.indexrelid) >= p.min_bytes
ORDER BY pg_catalog.pg_relation_size(s.indexrelid) DESC, object
