-- Table or index blocks served from shared buffers less often than advisor_cache_hit_pct
-- percent since the statistics were reset, once at least advisor_cache_min_blocks blocks were
-- read: the working set does not fit in shared_buffers.
WITH p AS (
    SELECT %(advisor_cache_hit_pct)s::numeric AS pct,
           %(advisor_cache_min_blocks)s::numeric AS min_blocks),
io AS (
    SELECT 'tables' AS kind, coalesce(sum(heap_blks_hit), 0) AS hit,
           coalesce(sum(heap_blks_read), 0) AS read
    FROM pg_catalog.pg_statio_user_tables
    UNION ALL
    SELECT 'indexes', coalesce(sum(idx_blks_hit), 0), coalesce(sum(idx_blks_read), 0)
    FROM pg_catalog.pg_statio_user_indexes)
SELECT 'cache_hit_rate' AS name,
       'Low cache hit rate' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('%%I %%s', pg_catalog.current_database(), io.kind) AS object,
       pg_catalog.format('%%s%%%% of %%s block reads of %%s came from shared buffers '
           '(shared_buffers = %%s)', round(100.0 * io.hit / (io.hit + io.read), 2),
           io.hit + io.read, io.kind, pg_catalog.current_setting('shared_buffers')) AS detail,
       E'-- give the working set more memory (restart required), then start counting again:\n'
       '-- ALTER SYSTEM SET shared_buffers = ''...'';\nSELECT pg_catalog.pg_stat_reset();'
           AS remediation,
       pg_catalog.format('cache_hit_rate:%%s', io.kind) AS cache_key
FROM io, p
WHERE io.hit + io.read >= p.min_blocks AND 100.0 * io.hit / (io.hit + io.read) < p.pct
ORDER BY object
