-- Statements of this database active for longer than monitoring_long_query_s (the setting the
-- metrics and alerts use too); ERROR past advisor_long_query_error_factor times that. They hold
-- a snapshot (vacuum cannot remove dead rows), their locks and a connection.
WITH p AS (
    SELECT %(monitoring_long_query_s)s::numeric AS long_s,
           %(advisor_long_query_error_factor)s::numeric AS error_factor)
SELECT 'long_running_queries' AS name,
       'Long-running query' AS title,
       CASE WHEN a.query_start < now() - make_interval(secs => p.error_factor * p.long_s) THEN 'ERROR'
            ELSE 'WARN' END AS level,
       'performance' AS category,
       pg_catalog.format('pid %%s', a.pid) AS object,
       pg_catalog.format('%%s has been running for %%s: %%s', coalesce(a.usename, '?'),
           date_trunc('second', now() - a.query_start), left(a.query, 300)) AS detail,
       pg_catalog.format('SELECT pg_catalog.pg_cancel_backend(%%s);', a.pid) AS remediation,
       pg_catalog.format('long_running_queries:%%s:%%s', a.pid,
           extract(epoch FROM a.backend_start)::bigint) AS cache_key
FROM pg_catalog.pg_stat_activity a, p
WHERE a.datname = pg_catalog.current_database() AND a.state = 'active'
  AND a.backend_type = 'client backend' AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.query_start < now() - make_interval(secs => p.long_s)
ORDER BY a.query_start, a.pid
