-- Indexes never scanned since statistics were last reset, larger than
-- petcare.unused_index_bytes (default 1 MiB), that enforce nothing (not unique, not a
-- primary key or exclusion constraint). Check replicas before dropping: their scans are not
-- counted here.
WITH p AS (
    SELECT coalesce(nullif(pg_catalog.current_setting('petcare.unused_index_bytes', true),
                           '')::bigint, 1048576) AS min_bytes)
SELECT 'unused_indexes' AS name,
       'Unused index' AS title,
       'INFO' AS level,
       'performance' AS category,
       pg_catalog.format('%I.%I', s.schemaname, s.indexrelname) AS object,
       pg_catalog.format('index %I on %I.%I (%s) has not been scanned since %s', s.indexrelname,
           s.schemaname, s.relname,
           pg_catalog.pg_size_pretty(pg_catalog.pg_relation_size(s.indexrelid)),
           coalesce((SELECT d.stats_reset::text FROM pg_catalog.pg_stat_database d
                      WHERE d.datname = pg_catalog.current_database()), 'the statistics began'))
           AS detail,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I;', s.schemaname, s.indexrelname)
           AS remediation,
       pg_catalog.format('unused_indexes:%s.%s', s.schemaname, s.indexrelname) AS cache_key
FROM pg_catalog.pg_stat_user_indexes s
JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid, p
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
  AND pg_catalog.pg_relation_size(s.indexrelid) >= p.min_bytes
ORDER BY pg_catalog.pg_relation_size(s.indexrelid) DESC, object
