-- name: mon_target_database
-- Cumulative counters and gauges of the connected database and its server (one collector round).
SELECT pg_catalog.pg_postmaster_start_time() AS server_started_at,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       pg_catalog.pg_is_in_recovery() AS in_recovery,
       d.xact_commit, d.xact_rollback, d.blks_read, d.blks_hit, d.tup_returned, d.tup_fetched,
       d.tup_inserted, d.tup_updated, d.tup_deleted, d.deadlocks, d.temp_bytes, d.temp_files,
       d.stats_reset AS db_stats_reset,
       pg_catalog.pg_database_size(pg_catalog.current_database()) AS database_bytes,
       pg_catalog.current_setting('max_connections')::int AS max_connections,
       (SELECT max(pg_catalog.age(x.datfrozenxid)) FROM pg_catalog.pg_database x
         WHERE x.datallowconn) AS xid_age,
       (SELECT w.wal_bytes FROM pg_catalog.pg_stat_wal w) AS wal_bytes,
       (SELECT w.stats_reset FROM pg_catalog.pg_stat_wal w) AS wal_stats_reset
FROM pg_catalog.pg_stat_database d
WHERE d.datname = pg_catalog.current_database()

-- name: mon_target_activity
-- Sessions by state and the waits that matter (long queries, idle transactions, lock waits).
SELECT count(*) FILTER (WHERE a.backend_type = 'client backend') AS connections_total,
       count(*) FILTER (WHERE a.mine AND a.state = 'active') AS sessions_active,
       count(*) FILTER (WHERE a.mine AND a.state = 'idle') AS sessions_idle,
       count(*) FILTER (WHERE a.mine AND a.state LIKE 'idle in transaction%%')
           AS sessions_idle_in_transaction,
       count(*) FILTER (WHERE a.mine AND a.state = 'active'
                          AND a.query_start < now() - make_interval(secs => %(long_s)s))
           AS long_running_queries,
       coalesce(max(greatest(extract(epoch FROM clock_timestamp() - a.query_start), 0))
                FILTER (WHERE a.mine AND a.state = 'active'), 0)::float8 AS longest_query_s,
       coalesce(max(greatest(extract(epoch FROM clock_timestamp() - a.state_change), 0))
                FILTER (WHERE a.mine AND a.state LIKE 'idle in transaction%%'), 0)::float8
           AS longest_idle_transaction_s,
       count(*) FILTER (WHERE a.mine AND a.wait_event_type = 'Lock') AS lock_waits,
       count(*) FILTER (WHERE a.mine AND a.wait_event_type = 'Lock'
                          AND cardinality(pg_catalog.pg_blocking_pids(a.pid)) > 0)
           AS blocked_sessions,
       coalesce(max(greatest(extract(epoch FROM clock_timestamp() - a.query_start), 0))
                FILTER (WHERE a.mine AND a.wait_event_type = 'Lock'), 0)::float8
           AS longest_lock_wait_s
FROM (SELECT s.*, s.datname = pg_catalog.current_database()
                  AND s.backend_type = 'client backend'
                  AND s.pid <> pg_catalog.pg_backend_pid() AS mine
      FROM pg_catalog.pg_stat_activity s) a

-- name: mon_target_replication
-- Replication lag (bytes behind, on a primary or a standby) and replication slots.
SELECT (SELECT count(*) FROM pg_catalog.pg_stat_replication) AS replicas,
       CASE WHEN pg_catalog.pg_is_in_recovery()
            THEN coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_last_wal_receive_lsn(),
                                                     pg_catalog.pg_last_wal_replay_lsn()), 0)
            ELSE (SELECT coalesce(max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
                                                                 r.replay_lsn)), 0)
                  FROM pg_catalog.pg_stat_replication r)
       END::float8 AS replication_lag_bytes,
       (SELECT count(*) FROM pg_catalog.pg_replication_slots s WHERE NOT s.active)
           AS inactive_slots,
       (SELECT coalesce(max(pg_catalog.pg_wal_lsn_diff(
                  CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                       ELSE pg_catalog.pg_current_wal_lsn() END, s.restart_lsn)), 0)
        FROM pg_catalog.pg_replication_slots s)::float8 AS slot_retained_bytes

-- name: mon_target_checkpointer
-- Checkpoint counters on PostgreSQL 17 and later (pg_stat_checkpointer).
SELECT num_timed AS checkpoints_timed, num_requested AS checkpoints_requested,
       buffers_written AS checkpoint_buffers, stats_reset AS ckpt_stats_reset
FROM pg_catalog.pg_stat_checkpointer

-- name: mon_target_bgwriter
-- Checkpoint counters before PostgreSQL 17 (pg_stat_bgwriter).
SELECT checkpoints_timed, checkpoints_req AS checkpoints_requested,
       buffers_checkpoint AS checkpoint_buffers, stats_reset AS ckpt_stats_reset
FROM pg_catalog.pg_stat_bgwriter

-- name: mon_target_data_directory
-- The server's data directory (superusers and pg_read_all_settings only; used for local disk).
SELECT pg_catalog.current_setting('data_directory') AS data_directory

-- name: mon_target_pgss_path
-- Put pg_stat_statements' schema on the transaction's search_path, after pg_catalog (whatever else that schema holds never stands in for a built-in); NULL when not installed here.
SELECT pg_catalog.set_config('search_path',
           'pg_catalog, ' || pg_catalog.quote_ident(n.nspname), true) AS path
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'

-- name: mon_target_pgss_reset
-- When pg_stat_statements was last reset (a reset makes every counter start again).
SELECT stats_reset AS pgss_reset FROM pg_stat_statements_info

-- name: mon_target_statements
-- Top statements of this database by total time (cumulative counters; the view is never reset).
SELECT s.queryid, s.userid::bigint AS userid, left(s.query, 4000) AS query, s.calls,
       s.total_exec_time AS total_ms, s.rows, s.shared_blks_hit AS blks_hit,
       s.shared_blks_read AS blks_read
FROM pg_stat_statements s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                WHERE d.datname = pg_catalog.current_database())
  AND s.toplevel AND s.queryid IS NOT NULL
ORDER BY s.total_exec_time DESC, s.queryid, s.userid
LIMIT %(top)s

-- name: mon_cancel_backend
-- Cancel the running statement of one backend.
SELECT pg_catalog.pg_cancel_backend(%(pid)s) AS sent

-- name: mon_terminate_backend
-- Terminate one backend (its open transaction is rolled back).
SELECT pg_catalog.pg_terminate_backend(%(pid)s) AS sent

-- name: mon_target_sessions
-- Live sessions of this database with what blocks them (Activity view).
SELECT a.pid, a.usename AS username, a.application_name, a.client_addr::text AS client_addr,
       a.state, a.wait_event_type, a.wait_event, a.backend_type,
       round(extract(epoch FROM now() - a.query_start)::numeric, 1)::float8 AS query_s,
       round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float8 AS transaction_s,
       pg_catalog.pg_blocking_pids(a.pid) AS blocked_by, left(a.query, 2000) AS query
FROM pg_catalog.pg_stat_activity a
WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid()
ORDER BY a.query_start NULLS LAST, a.pid

-- name: mon_target_space
-- Largest relations of this database with their table, index and toast sizes (Space view).
SELECT n.nspname AS schema, c.relname AS name,
       pg_catalog.pg_total_relation_size(c.oid) AS total_bytes,
       pg_catalog.pg_relation_size(c.oid) AS table_bytes,
       pg_catalog.pg_indexes_size(c.oid) AS index_bytes,
       greatest(c.reltuples, 0)::bigint AS estimated_rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%%'
ORDER BY total_bytes DESC, schema, name
LIMIT %(limit)s

-- name: mon_target_maintenance
-- Vacuum and analyze state and transaction-id age per table (Maintenance view).
SELECT s.schemaname AS schema, s.relname AS name, s.n_live_tup AS live_rows,
       s.n_dead_tup AS dead_rows, s.last_vacuum, s.last_autovacuum, s.last_analyze,
       s.last_autoanalyze, pg_catalog.age(c.relfrozenxid) AS xid_age,
       round(100.0 * pg_catalog.age(c.relfrozenxid) / 2147483647, 2)::float8 AS xid_age_pct
FROM pg_catalog.pg_stat_user_tables s
JOIN pg_catalog.pg_class c ON c.oid = s.relid
ORDER BY s.n_dead_tup DESC, xid_age DESC, schema, name
LIMIT %(limit)s

-- name: mon_target_sequences
-- Sequences by how much of their range is used (Maintenance view).
SELECT s.schemaname AS schema, s.sequencename AS name, s.data_type::text AS data_type,
       s.last_value, s.max_value,
       round(100.0 * coalesce(s.last_value, s.start_value) / s.max_value, 2)::float8 AS used_pct
FROM pg_catalog.pg_sequences s
WHERE s.increment_by > 0
ORDER BY used_pct DESC NULLS LAST, schema, name
LIMIT %(limit)s

-- name: mon_connections
-- Every stored connection the collector (acting as an admin) samples.
SELECT c.id, c.name FROM petcare.connections c ORDER BY c.id

-- name: mon_try_lock
-- The round's leader lock for one connection (0: the app-wide round); free at commit.
SELECT pg_catalog.pg_try_advisory_xact_lock(%(space)s, %(key)s) AS got

-- name: mon_state_get
-- The collector's baseline for one connection, locked for this round.
SELECT connection_id, sampled_at, counters, server_started_at, statements_available, advisor_at,
       now() AS now
FROM petcare.collector_state WHERE connection_id = %(conn)s FOR UPDATE

-- name: mon_state_put
-- Store the round's counters as the next baseline.
INSERT INTO petcare.collector_state AS s (connection_id, sampled_at, counters, server_started_at,
    statements_available, last_error, last_error_at, sampled_by)
VALUES (%(conn)s, now(), %(counters)s, %(started)s, %(statements)s, NULL, NULL, %(by)s)
ON CONFLICT (connection_id) DO UPDATE
SET sampled_at = now(), counters = EXCLUDED.counters,
    server_started_at = EXCLUDED.server_started_at,
    statements_available = EXCLUDED.statements_available, last_error = NULL,
    last_error_at = NULL, sampled_by = EXCLUDED.sampled_by

-- name: mon_state_error
-- Remember why a round failed (shown in the dashboard and the health report).
INSERT INTO petcare.collector_state AS s (connection_id, last_error, last_error_at, sampled_by)
VALUES (%(conn)s, %(error)s, now(), %(by)s)
ON CONFLICT (connection_id) DO UPDATE
SET last_error = EXCLUDED.last_error, last_error_at = now(), sampled_by = EXCLUDED.sampled_by

-- name: mon_state_advisor_done
-- Remember when the scheduled advisor last ran for a connection.
UPDATE petcare.collector_state SET advisor_at = now() WHERE connection_id = %(conn)s

-- name: mon_state_list
-- Collector freshness per connection the user can see.
SELECT c.name, s.sampled_at, s.last_error, s.last_error_at, s.statements_available,
       s.sampled_by, extract(epoch FROM now() - s.sampled_at)::float8 AS age_s
FROM petcare.connections c
LEFT JOIN petcare.collector_state s ON s.connection_id = c.id
ORDER BY c.name

-- name: mon_samples_insert
-- Append one round of raw samples (metric names and values as parallel arrays).
INSERT INTO petcare.metric_samples (connection_id, metric, at, value)
SELECT %(conn)s, m.metric, now(), m.value
FROM unnest(%(metrics)s::text[], %(values)s::float8[]) AS m(metric, value)
ON CONFLICT DO NOTHING

-- name: mon_snapshots_get
-- The previous pg_stat_statements counters of a connection.
SELECT queryid, userid, calls, total_ms, rows, blks_hit, blks_read,
       extract(epoch FROM now() - seen_at)::float8 AS age_s
FROM petcare.statement_snapshots WHERE connection_id = %(conn)s

-- name: mon_snapshots_put
-- Upsert the current counters of the top statements (the baseline of the next delta).
INSERT INTO petcare.statement_snapshots AS s (connection_id, queryid, userid, query, calls,
    total_ms, rows, blks_hit, blks_read, seen_at)
SELECT %(conn)s, r.queryid, r.userid, r.query, r.calls, r.total_ms, r.rows, r.blks_hit,
       r.blks_read, now()
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(queryid bigint, userid bigint, query text,
    calls bigint, total_ms float8, rows bigint, blks_hit bigint, blks_read bigint)
ON CONFLICT (connection_id, queryid, userid) DO UPDATE
SET query = EXCLUDED.query, calls = EXCLUDED.calls, total_ms = EXCLUDED.total_ms,
    rows = EXCLUDED.rows, blks_hit = EXCLUDED.blks_hit, blks_read = EXCLUDED.blks_read,
    seen_at = EXCLUDED.seen_at

-- name: mon_deltas_insert
-- Append the round's per-statement deltas.
INSERT INTO petcare.statement_deltas (connection_id, at, queryid, userid, calls, total_ms, rows,
    blks_hit, blks_read)
SELECT %(conn)s, now(), r.queryid, r.userid, r.calls, r.total_ms, r.rows, r.blks_hit, r.blks_read
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(queryid bigint, userid bigint, calls bigint,
    total_ms float8, rows bigint, blks_hit bigint, blks_read bigint)

-- name: mon_app_metrics
-- The app's own performance, resource and business metrics over the last five minutes.
WITH runs AS (
    SELECT e.duration_ms, e.outcome FROM petcare.execucoes_scripts e
    WHERE e.started_at > now() - interval '5 minutes')
SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) FROM runs r
         WHERE r.duration_ms IS NOT NULL) AS app_response_p50_ms,
       (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) FROM runs r
         WHERE r.duration_ms IS NOT NULL) AS app_response_p95_ms,
       (SELECT count(*) FROM runs r WHERE r.outcome <> 'running') / 300.0
           AS app_throughput_per_s,
       (SELECT count(*) FROM runs r WHERE r.outcome <> 'running') AS app_statements_5m,
       (SELECT CASE WHEN count(*) >= 5 THEN 100.0 * count(*) FILTER (
                    WHERE r.outcome IN ('error', 'timeout')) / count(*) END
        FROM runs r WHERE r.outcome NOT IN ('running', 'refused')) AS app_error_rate_pct,
       (SELECT count(DISTINCT s.user_id) FROM petcare.sessions s
         WHERE s.revoked_at IS NULL AND s.expires_at > now()
           AND s.last_seen_at > now() - interval '15 minutes') AS app_active_users,
       (SELECT count(*) FROM petcare.projetos_analytics) AS app_projects_total,
       (SELECT count(*) FROM petcare.login_attempts a
         WHERE NOT a.succeeded AND a.at > now() - interval '5 minutes') AS app_failed_logins_5m,
       (SELECT count(*) FROM petcare.audit_log l
         WHERE l.outcome = 'refused' AND l.at > now() - interval '5 minutes')
           AS app_refused_statements_5m,
       (SELECT count(*) FROM petcare.audit_log l
         WHERE l.action = 'login' AND l.outcome = 'refused'
           AND l.at > now() - interval '5 minutes' AND l.detail ->> 'locked' = 'true')
           AS app_lockouts_5m

-- name: mon_rollup
-- Fold raw samples of finished 5-minute buckets into averages (idempotent).
INSERT INTO petcare.metric_samples (connection_id, metric, at, resolution_s, value, max_value)
SELECT s.connection_id, s.metric,
       to_timestamp(floor(extract(epoch FROM s.at) / 300) * 300) AS bucket, 300,
       avg(s.value), max(s.value)
FROM petcare.metric_samples s
WHERE s.resolution_s = 0 AND s.at < to_timestamp(floor(extract(epoch FROM now()) / 300) * 300)
  AND s.at > now() - make_interval(hours => %(raw_hours)s)
GROUP BY s.connection_id, s.metric, bucket
ON CONFLICT DO NOTHING

-- name: mon_partitions_maintain
-- The time series' partitions (migration 0029): what reached a default partition moves into
-- its day, days ahead are created, days past retention are dropped whole (never a DELETE).
SELECT created, moved, dropped
FROM petcare.monitoring_partitions_maintain(make_interval(hours => %(raw_hours)s),
                                            make_interval(days => %(days)s), %(ahead_days)s)

-- name: mon_retention
-- Delete alert history and advisor runs past the rollup retention (the time series are
-- partitioned and pruned by mon_partitions_maintain).
WITH events AS (
    DELETE FROM petcare.alert_events
    WHERE state = 'resolved' AND resolved_at < now() - make_interval(days => %(days)s)
    RETURNING 1),
runs AS (
    DELETE FROM petcare.advisor_runs
    WHERE at < now() - make_interval(days => %(days)s) RETURNING 1)
SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM runs) AS deleted

-- name: mon_series
-- Time series of some metrics of one connection (NULL: app-wide) at one resolution.
SELECT s.metric, s.at, s.value, s.max_value
FROM petcare.metric_samples s
WHERE s.connection_id IS NOT DISTINCT FROM %(conn)s AND s.metric = ANY(%(metrics)s::text[])
  AND s.resolution_s = %(resolution)s AND s.at >= %(since)s
ORDER BY s.metric, s.at

-- name: mon_latest
-- The newest raw value of every metric of one connection (NULL: app-wide).
SELECT DISTINCT ON (s.metric) s.metric, s.at, s.value
FROM petcare.metric_samples s
WHERE s.connection_id IS NOT DISTINCT FROM %(conn)s AND s.resolution_s = 0
  AND s.at > now() - interval '1 hour'
ORDER BY s.metric, s.at DESC

-- name: mon_overview
-- The dashboard's first paint in one statement: the connection (by name, as the user sees it), the newest raw values and the series of some metrics, of it and of the app.
WITH c AS (SELECT c.id FROM petcare.connections c WHERE c.name = %(name)s)
SELECT 'found' AS part, NULL::text AS metric, NULL::timestamptz AS at, NULL::float8 AS value
FROM c
UNION ALL
(SELECT DISTINCT ON (s.metric) 'latest', s.metric, s.at, s.value
 FROM petcare.metric_samples s JOIN c ON s.connection_id = c.id
 WHERE s.resolution_s = 0 AND s.at > now() - interval '1 hour'
 ORDER BY s.metric, s.at DESC)
UNION ALL
(SELECT DISTINCT ON (s.metric) 'app_latest', s.metric, s.at, s.value
 FROM petcare.metric_samples s
 WHERE s.connection_id IS NULL AND s.resolution_s = 0 AND s.at > now() - interval '1 hour'
 ORDER BY s.metric, s.at DESC)
UNION ALL
SELECT 'series', s.metric, s.at, s.value
FROM petcare.metric_samples s JOIN c ON s.connection_id = c.id
WHERE s.metric = ANY(%(metrics)s::text[]) AND s.resolution_s = %(resolution)s AND s.at >= %(since)s
UNION ALL
SELECT 'app_series', s.metric, s.at, s.value
FROM petcare.metric_samples s
WHERE s.connection_id IS NULL AND s.metric = ANY(%(app_metrics)s::text[])
  AND s.resolution_s = %(resolution)s AND s.at >= %(since)s
ORDER BY 1, 2, 3

-- name: mon_connection_id
-- The id of a connection the user can see, by name.
SELECT c.id FROM petcare.connections c WHERE c.name = %(name)s

-- name: mon_top_statements
-- Statements of one connection over a window, ranked, with the previous window for the trend.
WITH cur AS (
    SELECT d.queryid, d.userid, sum(d.calls) AS calls, sum(d.total_ms) AS total_ms,
           sum(d.rows) AS rows, sum(d.blks_read) AS blks_read
    FROM petcare.statement_deltas d
    WHERE d.connection_id = %(conn)s AND d.at >= %(since)s
    GROUP BY d.queryid, d.userid),
prev AS (
    SELECT d.queryid, d.userid, sum(d.calls) AS calls, sum(d.total_ms) AS total_ms
    FROM petcare.statement_deltas d
    WHERE d.connection_id = %(conn)s AND d.at >= %(prev_since)s AND d.at < %(since)s
    GROUP BY d.queryid, d.userid)
SELECT cur.queryid, cur.userid, coalesce(sn.query, '') AS query, cur.calls::bigint AS calls,
       cur.total_ms, cur.total_ms / nullif(cur.calls, 0) AS mean_ms, cur.rows::bigint AS rows,
       cur.blks_read::bigint AS blks_read, prev.calls::bigint AS prev_calls,
       prev.total_ms / nullif(prev.calls, 0) AS prev_mean_ms
FROM cur
LEFT JOIN prev ON prev.queryid = cur.queryid AND prev.userid = cur.userid
LEFT JOIN petcare.statement_snapshots sn ON sn.connection_id = %(conn)s
    AND sn.queryid = cur.queryid AND sn.userid = cur.userid
WHERE cur.calls > 0
ORDER BY CASE %(order)s WHEN 'calls' THEN cur.calls::float8
                        WHEN 'mean' THEN cur.total_ms / nullif(cur.calls, 0)
                        ELSE cur.total_ms END DESC NULLS LAST, cur.queryid
LIMIT %(limit)s

-- name: mon_statement_series
-- Time spent per sample by each of some statements of one connection (top statements over time).
SELECT d.queryid, d.at, sum(d.total_ms)::float8 AS total_ms, sum(d.calls)::bigint AS calls
FROM petcare.statement_deltas d
WHERE d.connection_id = %(conn)s AND d.at >= %(since)s AND d.queryid = ANY (%(ids)s::bigint[])
GROUP BY d.queryid, d.at
ORDER BY d.at, d.queryid

-- name: mon_app_last_sample
-- Seconds since the last app-wide round (another instance may have just done it).
SELECT extract(epoch FROM now() - max(s.at))::float8 AS age_s
FROM petcare.metric_samples s
WHERE s.connection_id IS NULL AND s.resolution_s = 0 AND s.metric = 'host_cpu_pct'
  AND s.at > now() - interval '1 hour'

-- name: mon_advisor_due
-- Whether the scheduled advisor run of a connection is due (and the connection is reachable).
SELECT s.advisor_at IS NULL OR s.advisor_at < now() - make_interval(mins => %(minutes)s) AS due
FROM petcare.collector_state s
WHERE s.connection_id = %(conn)s AND s.last_error IS NULL AND s.sampled_at IS NOT NULL

-- name: mon_meta_cache
-- Buffer cache hit ratio of the metadata store's database (cache health component).
SELECT round(100.0 * d.blks_hit / nullif(d.blks_hit + d.blks_read, 0), 2)::float8 AS hit_pct
FROM pg_catalog.pg_stat_database d
WHERE d.datname = pg_catalog.current_database()
