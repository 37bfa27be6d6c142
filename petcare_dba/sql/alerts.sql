-- name: alert_rules_for_scope
-- Enabled rules of one scope ('connection' or 'app'), evaluated after each sample.
SELECT r.id, r.name, r.metric, r.comparator, r.threshold, r.duration_s, r.severity, r.scope,
       r.enabled, r.description
FROM petcare.alert_rules r
WHERE r.enabled AND r.scope = %(scope)s
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
