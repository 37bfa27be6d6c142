-- Tables with at least advisor_dead_rows dead rows that are also more than advisor_dead_pct
-- percent of the live rows: autovacuum is behind, disabled for the table, or blocked by an old
-- snapshot.
WITH p AS (
    SELECT %(advisor_dead_rows)s::numeric AS min_dead,
           %(advisor_dead_pct)s::numeric AS pct)
SELECT 'vacuum_needed' AS name,
       'Table needs vacuum' AS title,
       'WARN' AS level,
       'maintenance' AS category,
       pg_catalog.format('%%I.%%I', s.schemaname, s.relname) AS object,
       pg_catalog.format('%%s dead rows for %%s live rows; last vacuum %%s, last autovacuum %%s',
           s.n_dead_tup, s.n_live_tup, coalesce(s.last_vacuum::text, 'never'),
           coalesce(s.last_autovacuum::text, 'never')) AS detail,
       pg_catalog.format('VACUUM (ANALYZE, VERBOSE) %%I.%%I;', s.schemaname, s.relname)
           AS remediation,
       pg_catalog.format('vacuum_needed:%%s.%%s', s.schemaname, s.relname) AS cache_key
FROM pg_catalog.pg_stat_user_tables s, p
WHERE s.n_dead_tup >= p.min_dead AND s.n_dead_tup > p.pct / 100.0 * s.n_live_tup
ORDER BY s.n_dead_tup DESC, object
