-- Statements of this database whose mean execution time exceeds advisor_slow_query_ms over at
-- least advisor_slow_query_calls calls, from pg_stat_statements (needs the extension in this
-- database and in shared_preload_libraries).
WITH p AS (
    SELECT %(advisor_slow_query_ms)s::numeric AS slow_ms,
           %(advisor_slow_query_calls)s::numeric AS min_calls)
SELECT 'slow_queries' AS name,
       'Slow query' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('query %%s', s.queryid) AS object,
       pg_catalog.format('mean %%s ms over %%s calls (%%s ms in total): %%s',
           round(s.mean_exec_time::numeric, 1), s.calls, round(s.total_exec_time::numeric),
           left(regexp_replace(s.query, '\s+', ' ', 'g'), 300)) AS detail,
       pg_catalog.format('-- see the index suggestions for this statement, or run it with real '
           || E'values under EXPLAIN (ANALYZE, BUFFERS):\n-- %%s',
           left(regexp_replace(s.query, '\s+', ' ', 'g'), 1000)) AS remediation,
       pg_catalog.format('slow_queries:%%s', s.queryid) AS cache_key
FROM pg_stat_statements s, p
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                WHERE d.datname = pg_catalog.current_database())
  AND s.toplevel AND s.calls >= p.min_calls AND s.mean_exec_time > p.slow_ms
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT 50
