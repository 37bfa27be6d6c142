-- Monitoring: metric samples (raw and 5-minute rollups), the collector's per-connection state
-- (previous cumulative counters, so deltas survive a change of leader), pg_stat_statements
-- snapshots and deltas, advisor runs/findings/exclusions, and alert rules, events, channels and
-- deliveries. Access rules: signed-in users read the metrics, statements, advisor runs and alert
-- events of connections they can use; app-wide rows (connection_id NULL) are readable by any
-- signed-in user; writers are the collector (which acts as an admin), dbas for exclusions and
-- acknowledgements, and admins for rules and channels.

-- The ids of connections the signed-in user can use, evaluated once per statement (a hashed
-- subplan) instead of calling can_use_connection() per row.
CREATE FUNCTION petcare.usable_connection_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT c.id FROM petcare.connections c WHERE petcare.can_use_connection(c.id) $$;
REVOKE EXECUTE ON FUNCTION petcare.usable_connection_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.usable_connection_ids() TO petcare_app;

CREATE TABLE petcare.metric_samples (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE CASCADE,
    metric text NOT NULL,
    at timestamptz NOT NULL,
    resolution_s integer NOT NULL DEFAULT 0 CHECK (resolution_s IN (0, 300)),
    value double precision NOT NULL,
    max_value double precision
);
COMMENT ON TABLE petcare.metric_samples IS 'Time series: raw samples (resolution 0) and 5-minute averages (300). connection_id NULL: app or host metric.';
-- One row per metric, bucket and resolution: rollups are idempotent (ON CONFLICT DO NOTHING).
CREATE UNIQUE INDEX metric_samples_key ON petcare.metric_samples
    (connection_id, metric, resolution_s, at) NULLS NOT DISTINCT;
CREATE INDEX metric_samples_at_idx ON petcare.metric_samples (at);

CREATE TABLE petcare.collector_state (
    connection_id bigint PRIMARY KEY REFERENCES petcare.connections (id) ON DELETE CASCADE,
    sampled_at timestamptz,
    counters jsonb NOT NULL DEFAULT '{}',
    server_started_at timestamptz,
    statements_available boolean,
    last_error text,
    last_error_at timestamptz,
    advisor_at timestamptz,
    sampled_by text
);
COMMENT ON TABLE petcare.collector_state IS 'Previous cumulative counters and reset markers per connection (delta baseline).';

CREATE TABLE petcare.statement_snapshots (
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    queryid bigint NOT NULL,
    userid oid NOT NULL,
    query text NOT NULL,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    rows bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (connection_id, queryid, userid)
);
COMMENT ON TABLE petcare.statement_snapshots IS 'Last seen cumulative pg_stat_statements counters (never reset on the target).';

CREATE TABLE petcare.statement_deltas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    at timestamptz NOT NULL,
    queryid bigint NOT NULL,
    userid oid NOT NULL,
    calls bigint NOT NULL CHECK (calls >= 0),
    total_ms double precision NOT NULL CHECK (total_ms >= 0),
    rows bigint NOT NULL CHECK (rows >= 0),
    blks_hit bigint NOT NULL CHECK (blks_hit >= 0),
    blks_read bigint NOT NULL CHECK (blks_read >= 0)
);
CREATE INDEX statement_deltas_conn_at_idx ON petcare.statement_deltas (connection_id, at);
CREATE INDEX statement_deltas_at_idx ON petcare.statement_deltas (at);

CREATE TABLE petcare.advisor_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    run_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    at timestamptz NOT NULL DEFAULT now(),
    findings integer NOT NULL,
    new_findings integer NOT NULL,
    resolved_findings integer NOT NULL,
    unavailable jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX advisor_runs_conn_at_idx ON petcare.advisor_runs (connection_id, at DESC);
CREATE INDEX advisor_runs_run_by_idx ON petcare.advisor_runs (run_by);

CREATE TABLE petcare.advisor_findings (
    run_id bigint NOT NULL REFERENCES petcare.advisor_runs (id) ON DELETE CASCADE,
    cache_key text NOT NULL,
    name text NOT NULL,
    title text NOT NULL,
    level text NOT NULL CHECK (level IN ('ERROR', 'WARN', 'INFO')),
    category text NOT NULL,
    object text NOT NULL,
    detail text NOT NULL,
    remediation text NOT NULL,
    status text NOT NULL CHECK (status IN ('new', 'open', 'resolved')),
    PRIMARY KEY (run_id, cache_key)
);

CREATE TABLE petcare.advisor_exclusions (
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    cache_key text NOT NULL,
    reason text NOT NULL DEFAULT '',
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, cache_key)
);
CREATE INDEX advisor_exclusions_created_by_idx ON petcare.advisor_exclusions (created_by);

CREATE TABLE petcare.alert_rules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    metric text NOT NULL,
    comparator text NOT NULL CHECK (comparator IN ('>', '>=', '<', '<=')),
    threshold double precision NOT NULL,
    duration_s integer NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
    severity text NOT NULL CHECK (severity IN ('warning', 'critical')),
    scope text NOT NULL CHECK (scope IN ('connection', 'app')),
    enabled boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    updated_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_updated_by_idx ON petcare.alert_rules (updated_by);

-- Where a rule stands per connection between samples: since when its condition holds (the
-- duration clock) and the open event, if any. connection_id 0 stands for app-wide rules.
CREATE TABLE petcare.alert_state (
    rule_id bigint NOT NULL REFERENCES petcare.alert_rules (id) ON DELETE CASCADE,
    connection_key bigint NOT NULL,
    breaching_since timestamptz,
    last_value double precision,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, connection_key)
);

CREATE TABLE petcare.alert_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id bigint NOT NULL REFERENCES petcare.alert_rules (id) ON DELETE CASCADE,
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE CASCADE,
    severity text NOT NULL,
    state text NOT NULL CHECK (state IN ('firing', 'resolved')),
    value double precision,
    last_value double precision,
    message text NOT NULL,
    flapping boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    acknowledged_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    acknowledged_at timestamptz
);
-- De-duplication: at most one firing event per rule and connection.
CREATE UNIQUE INDEX alert_events_one_firing ON petcare.alert_events (rule_id, connection_id)
    NULLS NOT DISTINCT WHERE state = 'firing';
CREATE INDEX alert_events_rule_idx ON petcare.alert_events (rule_id, started_at DESC);
CREATE INDEX alert_events_connection_idx ON petcare.alert_events (connection_id, started_at DESC);
CREATE INDEX alert_events_ack_idx ON petcare.alert_events (acknowledged_by);
CREATE INDEX alert_events_started_idx ON petcare.alert_events (started_at DESC);

CREATE TABLE petcare.alert_channels (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    kind text NOT NULL CHECK (kind IN ('webhook', 'email')),
    config jsonb NOT NULL DEFAULT '{}',
    secret_enc bytea,
    key_version integer REFERENCES petcare.encryption_keys (version),
    enabled boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN petcare.alert_channels.secret_enc IS 'AEAD envelope of the channel secret (webhook URL, SMTP password).';
CREATE INDEX alert_channels_key_version_idx ON petcare.alert_channels (key_version);
CREATE INDEX alert_channels_created_by_idx ON petcare.alert_channels (created_by);

CREATE TABLE petcare.alert_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id bigint NOT NULL REFERENCES petcare.alert_channels (id) ON DELETE CASCADE,
    event_id bigint REFERENCES petcare.alert_events (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('firing', 'resolved', 'test')),
    ok boolean NOT NULL,
    error text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_channel_at_idx ON petcare.alert_deliveries (channel_id, at DESC);
CREATE INDEX alert_deliveries_event_idx ON petcare.alert_deliveries (event_id);
CREATE INDEX alert_deliveries_at_idx ON petcare.alert_deliveries (at DESC);

INSERT INTO petcare.alert_rules (name, metric, comparator, threshold, duration_s, severity,
                                 scope, description) VALUES
    ('connection-saturation', 'connection_usage_pct', '>', 80, 60, 'warning', 'connection',
     'Connections in use as a share of max_connections.'),
    ('long-running-queries', 'long_running_queries', '>', 0, 0, 'warning', 'connection',
     'Queries active longer than monitoring_long_query_s.'),
    ('blocked-queries', 'longest_lock_wait_s', '>', 30, 0, 'warning', 'connection',
     'The longest wait of a session for a lock held by another (seconds).'),
    ('replication-lag', 'replication_lag_bytes', '>', 268435456, 120, 'warning', 'connection',
     'How far the furthest standby is behind, in bytes of WAL.'),
    ('cache-hit-drop', 'cache_hit_pct', '<', 95, 300, 'warning', 'connection',
     'Share of block reads served from shared buffers.'),
    ('xid-age', 'xid_age_pct', '>', 50, 0, 'critical', 'connection',
     'Age of the oldest unfrozen transaction id as a share of the wraparound horizon.'),
    ('disk-usage', 'db_host_disk_pct', '>', 90, 300, 'critical', 'connection',
     'Use of the database host''s data disk (local servers only).'),
    ('app-disk-usage', 'host_disk_pct', '>', 90, 300, 'critical', 'app',
     'Use of the app host''s data disk.'),
    ('error-rate-spike', 'app_error_rate_pct', '>', 25, 300, 'warning', 'app',
     'Share of statements run through the app that failed in the last 5 minutes.'),
    ('failed-login-burst', 'app_failed_logins_5m', '>', 20, 0, 'warning', 'app',
     'Failed sign-ins in the last 5 minutes.'),
    ('refused-statement-burst', 'app_refused_statements_5m', '>', 20, 0, 'warning', 'app',
     'Statements refused by safety rules in the last 5 minutes.'),
    ('advisor-error-finding', 'advisor_error_findings', '>', 0, 0, 'critical', 'connection',
     'ERROR-level findings of the latest advisor run that are not excluded.');

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.metric_samples, petcare.collector_state,
    petcare.statement_snapshots, petcare.statement_deltas, petcare.advisor_runs,
    petcare.advisor_findings, petcare.advisor_exclusions, petcare.alert_rules,
    petcare.alert_state, petcare.alert_events, petcare.alert_channels,
    petcare.alert_deliveries TO petcare_app;

-- Row level security. Reads: rows of usable connections (app-wide rows for any signed-in user).
-- Writes: the collector acts as an admin; dbas exclude findings and acknowledge alerts.
ALTER TABLE petcare.metric_samples ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.metric_samples FORCE ROW LEVEL SECURITY;
CREATE POLICY metric_samples_select ON petcare.metric_samples FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids())
           OR (connection_id IS NULL AND (SELECT petcare.current_user_id()) IS NOT NULL));
CREATE POLICY metric_samples_insert ON petcare.metric_samples FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY metric_samples_update ON petcare.metric_samples FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY metric_samples_delete ON petcare.metric_samples FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.collector_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.collector_state FORCE ROW LEVEL SECURITY;
CREATE POLICY collector_state_select ON petcare.collector_state FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY collector_state_insert ON petcare.collector_state FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY collector_state_update ON petcare.collector_state FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY collector_state_delete ON petcare.collector_state FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.statement_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.statement_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY statement_snapshots_select ON petcare.statement_snapshots FOR SELECT
    TO petcare_app USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY statement_snapshots_insert ON petcare.statement_snapshots FOR INSERT
    TO petcare_app WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_snapshots_update ON petcare.statement_snapshots FOR UPDATE
    TO petcare_app USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_snapshots_delete ON petcare.statement_snapshots FOR DELETE
    TO petcare_app USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.statement_deltas ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.statement_deltas FORCE ROW LEVEL SECURITY;
CREATE POLICY statement_deltas_select ON petcare.statement_deltas FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY statement_deltas_insert ON petcare.statement_deltas FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_deltas_update ON petcare.statement_deltas FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY statement_deltas_delete ON petcare.statement_deltas FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.advisor_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.advisor_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY advisor_runs_select ON petcare.advisor_runs FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY advisor_runs_insert ON petcare.advisor_runs FOR INSERT TO petcare_app
    WITH CHECK (connection_id IN (SELECT petcare.usable_connection_ids())
                AND run_by IS NOT DISTINCT FROM (SELECT petcare.current_user_id()));
CREATE POLICY advisor_runs_update ON petcare.advisor_runs FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY advisor_runs_delete ON petcare.advisor_runs FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.advisor_findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.advisor_findings FORCE ROW LEVEL SECURITY;
CREATE POLICY advisor_findings_select ON petcare.advisor_findings FOR SELECT TO petcare_app
    USING (run_id IN (SELECT r.id FROM petcare.advisor_runs r));
CREATE POLICY advisor_findings_insert ON petcare.advisor_findings FOR INSERT TO petcare_app
    WITH CHECK (run_id IN (SELECT r.id FROM petcare.advisor_runs r
                           WHERE r.run_by IS NOT DISTINCT FROM (SELECT petcare.current_user_id())));
CREATE POLICY advisor_findings_update ON petcare.advisor_findings FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY advisor_findings_delete ON petcare.advisor_findings FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.advisor_exclusions ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.advisor_exclusions FORCE ROW LEVEL SECURITY;
CREATE POLICY advisor_exclusions_select ON petcare.advisor_exclusions FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY advisor_exclusions_insert ON petcare.advisor_exclusions FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
                AND connection_id IN (SELECT petcare.usable_connection_ids()));
CREATE POLICY advisor_exclusions_update ON petcare.advisor_exclusions FOR UPDATE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
           AND connection_id IN (SELECT petcare.usable_connection_ids()))
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY advisor_exclusions_delete ON petcare.advisor_exclusions FOR DELETE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
           AND connection_id IN (SELECT petcare.usable_connection_ids()));

ALTER TABLE petcare.alert_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_rules_select ON petcare.alert_rules FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY alert_rules_insert ON petcare.alert_rules FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_rules_update ON petcare.alert_rules FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_rules_delete ON petcare.alert_rules FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.alert_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_state FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_state_select ON petcare.alert_state FOR SELECT TO petcare_app
    USING ((SELECT petcare.is_admin()));
CREATE POLICY alert_state_insert ON petcare.alert_state FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_state_update ON petcare.alert_state FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY alert_state_delete ON petcare.alert_state FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.alert_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_events FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_events_select ON petcare.alert_events FOR SELECT TO petcare_app
    USING (connection_id IN (SELECT petcare.usable_connection_ids())
           OR (connection_id IS NULL AND (SELECT petcare.current_user_id()) IS NOT NULL));
CREATE POLICY alert_events_insert ON petcare.alert_events FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
-- dbas acknowledge events of connections they can use; the service updates only the
-- acknowledgement columns for them.
CREATE POLICY alert_events_update ON petcare.alert_events FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())
           OR ((SELECT petcare.current_app_role()) = 'dba'
               AND (connection_id IS NULL
                    OR connection_id IN (SELECT petcare.usable_connection_ids()))))
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY alert_events_delete ON petcare.alert_events FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.alert_channels ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_channels FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_channels_admin ON petcare.alert_channels TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));

ALTER TABLE petcare.alert_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.alert_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_deliveries_admin ON petcare.alert_deliveries TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
