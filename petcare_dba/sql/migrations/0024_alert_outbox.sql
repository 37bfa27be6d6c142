-- Issue 17, alert delivery: a durable outbox, more channel kinds, silences and maintenance.
-- 1. alert_outbox: each alert event x channel becomes one row, written in the transaction that
--    opened or resolved the event (so a crash can neither lose nor invent a notification).
--    Deliverers claim due rows with FOR UPDATE SKIP LOCKED (several instances never send one
--    row twice), retry with backoff until alert_retry_max_attempts / alert_retry_max_age_s, and
--    mark each row delivered, dead or suppressed. idempotency_key is unique and sent with the
--    payload, so a receiver can drop the duplicate a crash between send and commit may cause.
-- 2. alert_channels gains the kinds slack, teams, discord and pagerduty (formatted by Apprise).
-- 3. alert_silences (by rule, connection and/or severity, for a time range, with a reason and
--    its creator) and alert_maintenance_windows (per connection, one-off or weekly recurring):
--    while one applies, events are recorded but their outbox rows are suppressed.
--    petcare.alert_suppression() is the one definition both the enqueue and the deliverer use.

ALTER TABLE petcare.alert_channels DROP CONSTRAINT alert_channels_kind_check;
ALTER TABLE petcare.alert_channels ADD CONSTRAINT alert_channels_kind_check
    CHECK (kind IN ('webhook', 'email', 'slack', 'teams', 'discord', 'pagerduty'));

CREATE TABLE petcare.alert_silences (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id bigint REFERENCES petcare.alert_rules (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE CASCADE,
    severity text CHECK (severity IN ('warning', 'critical')),
    starts_at timestamptz NOT NULL DEFAULT now(),
    ends_at timestamptz NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX alert_silences_rule_idx ON petcare.alert_silences (rule_id);
CREATE INDEX alert_silences_connection_idx ON petcare.alert_silences (connection_id);
CREATE INDEX alert_silences_created_by_idx ON petcare.alert_silences (created_by);
CREATE INDEX alert_silences_ends_idx ON petcare.alert_silences (ends_at);

-- One-off: starts_at/ends_at. Weekly: days (ISO 1 = Monday .. 7; empty = every day),
-- start_time and duration_minutes in the IANA time zone tz.
CREATE TABLE petcare.alert_maintenance_windows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    recurring boolean NOT NULL DEFAULT false,
    starts_at timestamptz,
    ends_at timestamptz,
    days smallint[] NOT NULL DEFAULT '{}' CHECK (days <@ ARRAY[1, 2, 3, 4, 5, 6, 7]::smallint[]),
    start_time time,
    duration_minutes integer CHECK (duration_minutes BETWEEN 1 AND 10080),
    tz text NOT NULL DEFAULT 'UTC',
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE WHEN recurring THEN start_time IS NOT NULL AND duration_minutes IS NOT NULL
                ELSE starts_at IS NOT NULL AND ends_at > starts_at END)
);
CREATE INDEX alert_maintenance_connection_idx ON petcare.alert_maintenance_windows (connection_id);
CREATE INDEX alert_maintenance_created_by_idx ON petcare.alert_maintenance_windows (created_by);

CREATE TABLE petcare.alert_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id bigint REFERENCES petcare.alert_events (id) ON DELETE CASCADE,
    channel_id bigint NOT NULL REFERENCES petcare.alert_channels (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('firing', 'resolved')),
    idempotency_key text NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'dead', 'suppressed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text CHECK (length(last_error) <= 500),
    suppressed_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
-- The deliverer's scan: only pending rows, oldest due first.
CREATE INDEX alert_outbox_due_idx ON petcare.alert_outbox (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX alert_outbox_event_idx ON petcare.alert_outbox (event_id);
CREATE INDEX alert_outbox_channel_idx ON petcare.alert_outbox (channel_id);
CREATE INDEX alert_outbox_created_idx ON petcare.alert_outbox (created_at);

-- Whether a maintenance window is open at p_at (a weekly window may have opened on one of the
-- seven previous days and still run).
CREATE FUNCTION petcare.alert_window_open(m petcare.alert_maintenance_windows,
                                          p_at timestamptz DEFAULT now())
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN NOT m.recurring THEN p_at >= m.starts_at AND p_at < m.ends_at
           ELSE EXISTS (
               SELECT 1 FROM generate_series(0, 7) AS back(d)
               CROSS JOIN LATERAL (SELECT ((p_at AT TIME ZONE m.tz)::date - back.d)
                                          + m.start_time AS opened) w
               WHERE (cardinality(m.days) = 0
                      OR extract(isodow FROM w.opened)::smallint = ANY (m.days))
                 AND (p_at AT TIME ZONE m.tz) >= w.opened
                 AND (p_at AT TIME ZONE m.tz)
                     < w.opened + make_interval(mins => m.duration_minutes))
           END
$$;

-- Why an event's notification is held back now: 'silence #N' or 'maintenance #N', else NULL.
-- SECURITY INVOKER: the caller's row-level security applies (the deliverer acts as an admin).
CREATE FUNCTION petcare.alert_suppression(p_rule bigint, p_conn bigint, p_severity text,
                                          p_at timestamptz DEFAULT now())
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT 'silence #' || s.id FROM petcare.alert_silences s
          WHERE p_at >= s.starts_at AND p_at < s.ends_at
            AND (s.rule_id IS NULL OR s.rule_id = p_rule)
            AND (s.connection_id IS NULL OR s.connection_id IS NOT DISTINCT FROM p_conn)
            AND (s.severity IS NULL OR s.severity = p_severity)
          ORDER BY s.id LIMIT 1),
        (SELECT 'maintenance #' || m.id FROM petcare.alert_maintenance_windows m
          WHERE m.connection_id = p_conn AND petcare.alert_window_open(m, p_at)
          ORDER BY m.id LIMIT 1))
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.alert_silences,
    petcare.alert_maintenance_windows, petcare.alert_outbox TO petcare_app;
REVOKE EXECUTE ON FUNCTION petcare.alert_suppression(bigint, bigint, text, timestamptz),
    petcare.alert_window_open(petcare.alert_maintenance_windows, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.alert_suppression(bigint, bigint, text, timestamptz),
    petcare.alert_window_open(petcare.alert_maintenance_windows, timestamptz) TO petcare_app;

-- Signed-in users see silences and windows (the alerts page says why nothing was sent); dbas
-- and admins manage them for connections they can use (admins: also app-wide silences).
ALTER TABLE petcare.alert_silences ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_silences FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_silences_select ON petcare.alert_silences FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY alert_silences_insert ON petcare.alert_silences FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin())
                OR ((SELECT petcare.current_app_role()) = 'dba'
                    AND connection_id IN (SELECT petcare.usable_connection_ids())));
CREATE POLICY alert_silences_update ON petcare.alert_silences FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_silences_delete ON petcare.alert_silences FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin())
           OR ((SELECT petcare.current_app_role()) = 'dba'
               AND connection_id IN (SELECT petcare.usable_connection_ids())));

ALTER TABLE petcare.alert_maintenance_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_maintenance_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_maintenance_select ON petcare.alert_maintenance_windows FOR SELECT
    TO petcare_app USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY alert_maintenance_insert ON petcare.alert_maintenance_windows FOR INSERT
    TO petcare_app
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
                AND connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY alert_maintenance_update ON petcare.alert_maintenance_windows FOR UPDATE
    TO petcare_app USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_maintenance_delete ON petcare.alert_maintenance_windows FOR DELETE
    TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
           AND connection_id IN (SELECT petcare.usable_connection_ids()));

-- The outbox holds channel payloads: admins only, like channels and deliveries.
ALTER TABLE petcare.alert_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_outbox_admin ON petcare.alert_outbox TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
