-- Sessions of this database waiting for a lock held by another session for longer than
-- advisor_lock_wait_s seconds, with the sessions that block them (pg_blocking_pids).
WITH p AS (SELECT %(advisor_lock_wait_s)s::numeric AS wait_s)
SELECT 'blocked_queries' AS name,
       'Blocked query' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('pid %%s', a.pid) AS object,
       pg_catalog.format('waiting %%s for %%s lock held by pid(s) %%s: %%s',
           date_trunc('second', now() - a.query_start), a.wait_event,
           array_to_string(pg_catalog.pg_blocking_pids(a.pid), ', '), left(a.query, 200))
           AS detail,
       (SELECT string_agg(pg_catalog.format('SELECT pg_catalog.pg_cancel_backend(%%s);', b),
                          E'\n' ORDER BY b)
          FROM unnest(pg_catalog.pg_blocking_pids(a.pid)) b) AS remediation,
       pg_catalog.format('blocked_queries:%%s:%%s', a.pid,
           extract(epoch FROM a.backend_start)::bigint) AS cache_key
FROM pg_catalog.pg_stat_activity a, p
WHERE a.datname = pg_catalog.current_database() AND a.wait_event_type = 'Lock'
  AND a.query_start < now() - make_interval(secs => p.wait_s)
  AND cardinality(pg_catalog.pg_blocking_pids(a.pid)) > 0
ORDER BY a.query_start, a.pid
