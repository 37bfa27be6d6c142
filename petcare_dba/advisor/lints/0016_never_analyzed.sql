-- Tables with at least advisor_analyze_rows rows that were never analyzed: the planner
-- guesses their size and value distribution, which leads to poor plans.
WITH p AS (SELECT %(advisor_analyze_rows)s::numeric AS min_rows)
SELECT 'never_analyzed' AS name,
       'Table never analyzed' AS title,
       'INFO' AS level,
       'maintenance' AS category,
       pg_catalog.format('%%I.%%I', s.schemaname, s.relname) AS object,
       pg_catalog.format('about %%s rows and no planner statistics', s.n_live_tup) AS detail,
       pg_catalog.format('ANALYZE %%I.%%I;', s.schemaname, s.relname) AS remediation,
       pg_catalog.format('never_analyzed:%%s.%%s', s.schemaname, s.relname) AS cache_key
FROM pg_catalog.pg_stat_user_tables s, p
WHERE s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AND s.n_live_tup >= p.min_rows
ORDER BY s.n_live_tup DESC, object
