-- name: regression_rule
-- The enabled query-regression rule of connection scope, if any.
SELECT r.id, r.name, r.severity
FROM petcare.alert_rules r
WHERE r.enabled AND r.kind = 'query_regression' AND r.scope = 'connection'
ORDER BY r.id
LIMIT 1

-- name: regression_windows
-- Per statement of one connection: calls and time in the baseline window and in the recent
-- window, summed from the collector's deltas (pg_stat_statements is never reset).
WITH w AS (
    SELECT now() - make_interval(secs => %(recent_s)s) AS recent_since,
           now() - make_interval(secs => %(recent_s)s + %(base_s)s) AS base_since)
SELECT d.queryid, d.userid,
       coalesce(sum(d.calls) FILTER (WHERE d.at < w.recent_since), 0)::bigint AS base_calls,
       coalesce(sum(d.total_ms) FILTER (WHERE d.at < w.recent_since), 0)::float8 AS base_ms,
       coalesce(sum(d.calls) FILTER (WHERE d.at >= w.recent_since), 0)::bigint AS recent_calls,
       coalesce(sum(d.total_ms) FILTER (WHERE d.at >= w.recent_since), 0)::float8 AS recent_ms
FROM petcare.statement_deltas d CROSS JOIN w
WHERE d.connection_id = %(conn)s AND d.at >= w.base_since
GROUP BY d.queryid, d.userid

-- name: regression_firing
-- The firing regression events of one connection, locked (one transaction evaluates them).
SELECT e.id, e.subject, e.detail, e.flapping, e.started_at
FROM petcare.alert_events e
WHERE e.rule_id = %(rule)s AND e.connection_id = %(conn)s AND e.state = 'firing'
FOR UPDATE

-- name: regression_statement
-- The normalized text of one statement as pg_stat_statements has it (the last snapshot).
SELECT s.query FROM petcare.statement_snapshots s
WHERE s.connection_id = %(conn)s AND s.queryid = %(queryid)s AND s.userid = %(userid)s

-- name: regression_open
-- Open a regression event for one statement; flapping when this statement fired too often in
-- the last hour.
INSERT INTO petcare.alert_events (rule_id, connection_id, subject, detail, severity, state, value,
    last_value, message, flapping)
VALUES (%(rule)s, %(conn)s, %(subject)s, %(detail)s::jsonb, %(severity)s, 'firing', %(value)s,
    %(value)s, %(message)s,
    (SELECT count(*) FROM petcare.alert_events x
      WHERE x.rule_id = %(rule)s AND x.connection_id = %(conn)s AND x.subject = %(subject)s
        AND x.started_at > now() - interval '1 hour') >= %(flap_limit)s)
ON CONFLICT DO NOTHING
RETURNING id, flapping, started_at

-- name: regression_touch
-- A regression seen again: its latest figures (no new notification).
UPDATE petcare.alert_events
SET last_value = %(value)s, last_seen_at = now(), detail = detail || %(figures)s::jsonb
WHERE id = %(id)s

-- name: regression_resolve
-- The recent mean is back under the threshold: resolve.
UPDATE petcare.alert_events
SET state = 'resolved', resolved_at = now(), last_value = %(value)s, last_seen_at = now(),
    detail = detail || %(figures)s::jsonb
WHERE id = %(id)s
RETURNING id, flapping, started_at

-- name: regression_list
-- Regression events of one connection the user can see (firing first, newest first).
SELECT e.id, c.name AS connection, e.state, e.severity, e.subject, e.detail, e.value,
       e.last_value, e.started_at, e.last_seen_at, e.resolved_at
FROM petcare.alert_events e
JOIN petcare.alert_rules r ON r.id = e.rule_id
JOIN petcare.connections c ON c.id = e.connection_id
WHERE r.kind = 'query_regression' AND c.name = %(connection)s
  AND (%(firing_only)s = false OR e.state = 'firing')
ORDER BY e.state = 'firing' DESC, e.started_at DESC, e.id DESC
LIMIT %(limit)s
