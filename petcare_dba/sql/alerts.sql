-- name: alert_rules_for_scope
-- Enabled rules of one scope ('connection' or 'app'), evaluated after each sample.
SELECT r.id, r.name, r.metric, r.comparator, r.threshold, r.duration_s, r.severity, r.scope,
       r.enabled, r.description
FROM petcare.alert_rules r
WHERE r.enabled AND r.scope = %(scope)s AND r.kind = 'metric'
ORDER BY r.id

-- name: alert_rules_list
-- Every rule (rules page, `petcare-dba alerts rules`).
SELECT r.id, r.name, r.metric, r.comparator, r.threshold, r.duration_s, r.severity, r.scope,
       r.enabled, r.description
FROM petcare.alert_rules r
ORDER BY r.scope, r.name

-- name: alert_rule_update
-- Change a rule's threshold, duration, severity or enabled flag (admins; RLS enforces it).
UPDATE petcare.alert_rules
SET threshold = coalesce(%(threshold)s, threshold),
    comparator = coalesce(%(comparator)s, comparator),
    duration_s = coalesce(%(duration_s)s, duration_s),
    severity = coalesce(%(severity)s, severity),
    enabled = coalesce(%(enabled)s, enabled),
    updated_by = petcare.current_user_id(), updated_at = now()
WHERE name = %(name)s
RETURNING id

-- name: alert_rule_insert
-- A custom rule on any collected metric (admins).
INSERT INTO petcare.alert_rules (name, metric, comparator, threshold, duration_s, severity, scope,
    description, updated_by)
VALUES (%(name)s, %(metric)s, %(comparator)s, %(threshold)s, %(duration_s)s, %(severity)s,
    %(scope)s, %(description)s, petcare.current_user_id())
RETURNING id

-- name: alert_state_put
-- Record whether a rule breaches now; returns for how long it has been breaching (-1: not).
INSERT INTO petcare.alert_state AS s (rule_id, connection_key, breaching_since, last_value,
    updated_at)
VALUES (%(rule)s, %(key)s, CASE WHEN %(breaching)s THEN now() END, %(value)s, now())
ON CONFLICT (rule_id, connection_key) DO UPDATE
SET breaching_since = CASE WHEN %(breaching)s THEN coalesce(s.breaching_since, now()) END,
    last_value = EXCLUDED.last_value, updated_at = now()
RETURNING coalesce(extract(epoch FROM now() - s.breaching_since), -1)::float8 AS breaching_s

-- name: alert_firing_get
-- The open event of a rule and connection, if any (de-duplication).
SELECT e.id, e.flapping, e.started_at
FROM petcare.alert_events e
WHERE e.rule_id = %(rule)s AND e.connection_id IS NOT DISTINCT FROM %(conn)s
  AND e.state = 'firing'
FOR UPDATE

-- name: alert_event_open
-- Open an event; flapping when the rule fired too often for this connection in the last hour.
INSERT INTO petcare.alert_events (rule_id, connection_id, severity, state, value, last_value,
    message, flapping)
VALUES (%(rule)s, %(conn)s, %(severity)s, 'firing', %(value)s, %(value)s, %(message)s,
    (SELECT count(*) FROM petcare.alert_events x
      WHERE x.rule_id = %(rule)s AND x.connection_id IS NOT DISTINCT FROM %(conn)s
        AND x.started_at > now() - interval '1 hour') >= %(flap_limit)s)
RETURNING id, flapping, started_at

-- name: alert_event_touch
-- A firing event seen again: remember the latest value (no new notification).
UPDATE petcare.alert_events SET last_value = %(value)s, last_seen_at = now() WHERE id = %(id)s

-- name: alert_event_resolve
-- The condition cleared: resolve the event.
UPDATE petcare.alert_events
SET state = 'resolved', resolved_at = now(), last_value = %(value)s, last_seen_at = now()
WHERE id = %(id)s
RETURNING id, flapping, started_at, resolved_at

-- name: alert_connection_name
-- The name of a connection for notification texts.
SELECT c.name FROM petcare.connections c WHERE c.id = %(conn)s

-- name: alert_events_list
-- Alert history visible to the user, newest first.
SELECT e.id, r.name AS rule, r.metric, c.name AS connection, e.severity, e.state, e.value,
       e.last_value, e.message, e.flapping, e.started_at, e.last_seen_at, e.resolved_at,
       u.username AS acknowledged_by, e.acknowledged_at
FROM petcare.alert_events e
JOIN petcare.alert_rules r ON r.id = e.rule_id
LEFT JOIN petcare.connections c ON c.id = e.connection_id
LEFT JOIN petcare.users u ON u.id = e.acknowledged_by
WHERE (%(state)s::text IS NULL OR e.state = %(state)s)
  AND (%(connection)s::text IS NULL OR c.name = %(connection)s)
ORDER BY e.started_at DESC, e.id DESC
LIMIT %(limit)s

-- name: alert_ack
-- Acknowledge an event (dbas and admins; RLS limits it to usable connections).
UPDATE petcare.alert_events
SET acknowledged_by = petcare.current_user_id(), acknowledged_at = now()
WHERE id = %(id)s AND acknowledged_at IS NULL
RETURNING id

-- name: alert_channel_insert
-- A notification channel; the secret (webhook URL, SMTP password) is sealed.
INSERT INTO petcare.alert_channels (name, kind, config, secret_enc, key_version, created_by)
VALUES (%(name)s, %(kind)s, %(config)s, %(secret_enc)s, %(key_version)s,
    petcare.current_user_id())
RETURNING id

-- name: alert_channels_list
-- Channels with their last delivery (admins).
SELECT ch.id, ch.name, ch.kind, ch.config, ch.enabled, ch.created_at,
       d.at AS last_delivery_at, d.ok AS last_delivery_ok, d.error AS last_delivery_error
FROM petcare.alert_channels ch
LEFT JOIN LATERAL (SELECT x.at, x.ok, x.error FROM petcare.alert_deliveries x
                   WHERE x.channel_id = ch.id ORDER BY x.at DESC, x.id DESC LIMIT 1) d ON true
ORDER BY ch.name

-- name: alert_channels_secrets
-- Enabled channels with their sealed secrets, for delivery (admins).
SELECT ch.id, ch.name, ch.kind, ch.config, ch.secret_enc, ch.enabled
FROM petcare.alert_channels ch
WHERE ch.enabled OR ch.name = %(name)s
ORDER BY ch.id

-- name: alert_channel_delete
-- Remove a channel by name (admins).
DELETE FROM petcare.alert_channels WHERE name = %(name)s RETURNING id

-- name: alert_delivery_insert
-- Record one delivery attempt (alert-delivery health, channel list).
INSERT INTO petcare.alert_deliveries (channel_id, event_id, kind, ok, error)
VALUES (%(channel)s, %(event)s, %(kind)s, %(ok)s, %(error)s)

-- name: alert_delivery_health
-- Delivery attempts of the last hour per outcome (health component).
SELECT count(*) FILTER (WHERE d.ok) AS ok, count(*) FILTER (WHERE NOT d.ok) AS failed,
       (SELECT count(*) FROM petcare.alert_channels c WHERE c.enabled) AS channels,
       max(d.at) FILTER (WHERE NOT d.ok) AS last_failure_at,
       (SELECT x.error FROM petcare.alert_deliveries x WHERE NOT x.ok
         ORDER BY x.at DESC, x.id DESC LIMIT 1) AS last_error,
       (SELECT x.ok FROM petcare.alert_deliveries x
         ORDER BY x.at DESC, x.id DESC LIMIT 1) AS last_ok
FROM petcare.alert_deliveries d
WHERE d.at > now() - interval '1 hour'

-- name: alert_outbox_enqueue
-- One outbox row per enabled channel for a notification, in the evaluating transaction;
-- suppressed at once while a silence or maintenance window applies (still recorded).
INSERT INTO petcare.alert_outbox (event_id, channel_id, kind, idempotency_key, payload, state,
    suppressed_by, finished_at)
SELECT %(event)s, ch.id, %(kind)s,
       'petcare-' || %(event)s || '-' || %(kind)s || '-' || ch.id, %(payload)s::jsonb,
       CASE WHEN s.why IS NULL THEN 'pending' ELSE 'suppressed' END, s.why,
       CASE WHEN s.why IS NULL THEN NULL ELSE now() END
FROM petcare.alert_channels ch
CROSS JOIN LATERAL (SELECT petcare.alert_suppression(e.rule_id, e.connection_id, e.severity)
                    AS why FROM petcare.alert_events e WHERE e.id = %(event)s) s
WHERE ch.enabled
ON CONFLICT (idempotency_key) DO NOTHING

-- name: alert_outbox_claim
-- The next due row, locked for this deliverer only (SKIP LOCKED: others take the next one);
-- with its channel and whether a silence or window applies now.
SELECT o.id, o.event_id, o.kind, o.idempotency_key, o.payload, o.attempts, o.created_at,
       extract(epoch FROM now() - o.created_at)::float8 AS age_s,
       ch.id AS channel_id, ch.name, ch.kind AS channel_kind, ch.config, ch.secret_enc,
       ch.enabled,
       (SELECT petcare.alert_suppression(e.rule_id, e.connection_id, e.severity)
          FROM petcare.alert_events e WHERE e.id = o.event_id) AS suppressed_by
FROM petcare.alert_outbox o
JOIN petcare.alert_channels ch ON ch.id = o.channel_id
WHERE o.state = 'pending' AND o.next_attempt_at <= now()
ORDER BY o.next_attempt_at, o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED

-- name: alert_outbox_done
-- The outcome of one attempt: delivered, dead or suppressed (final), or pending again later.
UPDATE petcare.alert_outbox
SET state = %(state)s, attempts = attempts + %(attempted)s, last_error = %(error)s,
    suppressed_by = %(suppressed_by)s,
    next_attempt_at = now() + make_interval(secs => %(delay_s)s),
    finished_at = CASE WHEN %(state)s = 'pending' THEN NULL ELSE now() END
WHERE id = %(id)s

-- name: alert_outbox_list
-- Recent outbox rows with their channel (alerts page, `petcare-dba alerts outbox`).
SELECT o.id, o.event_id, o.kind, ch.name AS channel, ch.kind AS channel_kind, o.state,
       o.attempts, o.next_attempt_at, o.last_error, o.suppressed_by, o.idempotency_key,
       o.created_at, o.finished_at
FROM petcare.alert_outbox o
JOIN petcare.alert_channels ch ON ch.id = o.channel_id
WHERE (%(state)s::text IS NULL OR o.state = %(state)s)
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s

-- name: alert_delivery_counts
-- Delivery counters by channel kind and outcome: attempts (ok, failed) and outbox rows that
-- ended dead or suppressed, or wait (pending), for /metrics.
SELECT ch.kind AS channel_kind, CASE WHEN d.ok THEN 'delivered' ELSE 'failed' END AS outcome,
       count(*)::bigint AS n
FROM petcare.alert_deliveries d JOIN petcare.alert_channels ch ON ch.id = d.channel_id
WHERE d.kind <> 'test'
GROUP BY 1, 2
UNION ALL
SELECT ch.kind, o.state, count(*)::bigint
FROM petcare.alert_outbox o JOIN petcare.alert_channels ch ON ch.id = o.channel_id
WHERE o.state IN ('dead', 'suppressed', 'pending')
GROUP BY 1, 2
ORDER BY 1, 2

-- name: alert_silence_insert
-- A silence (dbas for their connections, admins for anything); returns its id.
INSERT INTO petcare.alert_silences (rule_id, connection_id, severity, starts_at, ends_at,
    reason, created_by)
VALUES (%(rule_id)s, %(connection_id)s, %(severity)s, coalesce(%(starts_at)s, now()), %(ends_at)s, %(reason)s,
        petcare.current_user_id())
RETURNING id

-- name: alert_silences_list
-- Silences not yet over (or all), newest first, with names and creator.
SELECT s.id, r.name AS rule, c.name AS connection, s.severity, s.starts_at, s.ends_at,
       s.reason, u.username AS created_by, s.created_at, (now() >= s.starts_at
       AND now() < s.ends_at) AS active
FROM petcare.alert_silences s
LEFT JOIN petcare.alert_rules r ON r.id = s.rule_id
LEFT JOIN petcare.connections c ON c.id = s.connection_id
LEFT JOIN petcare.users u ON u.id = s.created_by
WHERE %(all)s OR s.ends_at > now()
ORDER BY s.created_at DESC, s.id DESC

-- name: alert_silence_delete
-- Remove a silence (RLS: dbas only those of their connections).
DELETE FROM petcare.alert_silences WHERE id = %(id)s RETURNING id

-- name: alert_maintenance_insert
-- A maintenance window of a connection (one-off or weekly); returns its id.
INSERT INTO petcare.alert_maintenance_windows (connection_id, recurring, starts_at, ends_at,
    days, start_time, duration_minutes, tz, reason, created_by)
VALUES (%(connection_id)s, %(recurring)s,
        %(starts_at)s, %(ends_at)s, %(days)s::smallint[], %(start_time)s, %(duration_minutes)s,
        %(tz)s, %(reason)s, petcare.current_user_id())
RETURNING id

-- name: alert_maintenance_list
-- Maintenance windows with their connection and whether one is open now.
SELECT m.id, c.name AS connection, m.recurring, m.starts_at, m.ends_at, m.days, m.start_time,
       m.duration_minutes, m.tz, m.reason, u.username AS created_by, m.created_at,
       petcare.alert_window_open(m) AS active
FROM petcare.alert_maintenance_windows m
JOIN petcare.connections c ON c.id = m.connection_id
LEFT JOIN petcare.users u ON u.id = m.created_by
WHERE %(all)s OR m.recurring OR m.ends_at > now()
ORDER BY m.created_at DESC, m.id DESC

-- name: alert_maintenance_delete
-- Remove a maintenance window (dbas and admins, for connections they can use).
DELETE FROM petcare.alert_maintenance_windows WHERE id = %(id)s RETURNING id

-- name: alert_connection_id
-- A connection's id by name (silences and windows name one), if the user can see it.
SELECT c.id FROM petcare.connections c WHERE c.name = %(name)s

-- name: alert_rule_id
-- A rule's id by name (silences name one).
SELECT r.id FROM petcare.alert_rules r WHERE r.name = %(name)s
