-- Sessions of this database idle inside an open transaction for longer than
-- advisor_idle_transaction_s: they keep locks and block vacuum's cleanup.
WITH p AS (SELECT %(advisor_idle_transaction_s)s::numeric AS idle_s)
SELECT 'idle_in_transaction' AS name,
       'Idle in transaction' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('pid %%s', a.pid) AS object,
       pg_catalog.format('%%s (%%s) has been idle in a transaction for %%s; last statement: %%s',
           coalesce(a.usename, '?'), coalesce(a.application_name, ''),
           date_trunc('second', now() - a.state_change), left(a.query, 200)) AS detail,
       pg_catalog.format(E'SELECT pg_catalog.pg_terminate_backend(%%s);\n'
           '-- and stop it happening again:\nALTER DATABASE %%I SET '
           'idle_in_transaction_session_timeout = ''5min'';', a.pid,
           pg_catalog.current_database()) AS remediation,
       pg_catalog.format('idle_in_transaction:%%s:%%s', a.pid,
           extract(epoch FROM a.backend_start)::bigint) AS cache_key
FROM pg_catalog.pg_stat_activity a, p
WHERE a.datname = pg_catalog.current_database() AND a.state LIKE 'idle in transaction%%'
  AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.state_change < now() - make_interval(secs => p.idle_s)
ORDER BY a.state_change, a.pid
