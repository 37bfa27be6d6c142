-- The append-only, hash-chained audit log. Each row's row_hash is
-- sha256(prev_hash || canonical jsonb of the row); chain_seq orders the chain and is assigned
-- under a row lock on audit_chain_head, so concurrent writers produce one linear chain (no fork).
-- petcare_app may only INSERT and SELECT (its own rows; admins all); UPDATE/DELETE are refused by a
-- row trigger and TRUNCATE by a statement trigger, for the owner too. A superuser can still
-- disable triggers; verify_audit_chain() then reports the first broken row.

CREATE TABLE petcare.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_seq bigint NOT NULL UNIQUE,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id bigint,  -- no FK: the log outlives users and must never be updated by a cascade
    username text,
    app_role text,
    session_id text,
    client_addr text,
    action text NOT NULL,
    event_id uuid,
    connection_id bigint,
    target text,
    sql_text text,
    sql_hash text,
    classification text,
    outcome text NOT NULL CHECK (outcome IN ('intent', 'ok', 'error', 'refused', 'cancelled',
                                             'timeout', 'unknown', 'confirm')),
    sqlstate text,
    rows_affected bigint,
    duration_ms numeric,
    ai_initiated boolean NOT NULL DEFAULT false,
    detail jsonb NOT NULL DEFAULT '{}',
    prev_hash text NOT NULL,
    row_hash text NOT NULL
);
CREATE INDEX audit_log_user_at_idx ON petcare.audit_log (user_id, at DESC);
CREATE INDEX audit_log_action_at_idx ON petcare.audit_log (action, at DESC);
CREATE INDEX audit_log_event_idx ON petcare.audit_log (event_id);
CREATE INDEX audit_log_at_idx ON petcare.audit_log (at DESC);

CREATE TABLE petcare.audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq bigint NOT NULL,
    last_hash text NOT NULL
);
INSERT INTO petcare.audit_chain_head VALUES (true, 0, repeat('0', 64));

-- The canonical text hashed for a row: jsonb output is key-sorted and deterministic; the UTC
-- TimeZone attribute makes timestamptz render the same whatever the session's zone.
CREATE FUNCTION petcare.audit_row_hash(r petcare.audit_log) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    AS $$ SELECT encode(sha256(convert_to(
              r.prev_hash || (to_jsonb(r) - 'row_hash' - 'id')::text, 'UTF8')), 'hex') $$;

CREATE FUNCTION petcare.audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    head petcare.audit_chain_head;
BEGIN
    SELECT * INTO head FROM petcare.audit_chain_head FOR UPDATE;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := '';
    NEW.row_hash := petcare.audit_row_hash(NEW);
    UPDATE petcare.audit_chain_head SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.audit_chain();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.forbid_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON petcare.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION petcare.forbid_change();

-- Walk the chain in order; returns the first chain_seq whose hash or link does not match.
CREATE FUNCTION petcare.verify_audit_chain(
    OUT ok boolean, OUT checked bigint, OUT first_broken_seq bigint, OUT reason text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    SET "TimeZone" = 'UTC' AS $$
DECLARE
    r petcare.audit_log;
    expected_prev text := repeat('0', 64);
    expected_seq bigint := 1;
    head petcare.audit_chain_head;
BEGIN
    -- current_user is the owner inside a definer; the caller is judged by identity, or by being
    -- a superuser session (psql by the operator).
    IF NOT petcare.is_admin()
       AND NOT (SELECT su.rolsuper FROM pg_catalog.pg_roles su WHERE su.rolname = session_user) THEN
        RAISE EXCEPTION 'only an admin may verify the audit chain' USING ERRCODE = '42501';
    END IF;
    ok := true; checked := 0;
    FOR r IN SELECT * FROM petcare.audit_log ORDER BY chain_seq LOOP
        checked := checked + 1;
        IF r.chain_seq <> expected_seq THEN
            ok := false; first_broken_seq := expected_seq; reason := 'missing row'; RETURN;
        END IF;
        IF r.prev_hash <> expected_prev THEN
            ok := false; first_broken_seq := r.chain_seq; reason := 'broken link'; RETURN;
        END IF;
        IF petcare.audit_row_hash(r) <> r.row_hash THEN
            ok := false; first_broken_seq := r.chain_seq; reason := 'row altered'; RETURN;
        END IF;
        expected_prev := r.row_hash;
        expected_seq := expected_seq + 1;
    END LOOP;
    SELECT * INTO head FROM petcare.audit_chain_head;
    IF head.last_seq <> expected_seq - 1 OR head.last_hash <> expected_prev THEN
        ok := false; first_broken_seq := expected_seq; reason := 'rows removed from the end';
    END IF;
END $$;

-- Intents whose process died before writing an outcome become 'unknown' (reliability A2).
CREATE FUNCTION petcare.audit_reconcile(older_than interval DEFAULT '5 minutes')
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO petcare.audit_log (chain_seq, user_id, username, app_role, session_id, action,
        event_id, connection_id, target, sql_hash, classification, outcome, detail,
        prev_hash, row_hash)
    SELECT 0, i.user_id, i.username, i.app_role, i.session_id, i.action, i.event_id,
           i.connection_id, i.target, i.sql_hash, i.classification, 'unknown',
           jsonb_build_object('reconciled', true), '', ''
    FROM petcare.audit_log i
    WHERE i.outcome = 'intent' AND i.at < clock_timestamp() - older_than
      AND NOT EXISTS (SELECT 1 FROM petcare.audit_log o
                      WHERE o.event_id = i.event_id AND o.outcome <> 'intent')
    ORDER BY i.chain_seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE petcare.execucoes_scripts e SET outcome = 'unknown'
    WHERE e.outcome = 'running' AND e.started_at < clock_timestamp() - older_than;
    RETURN n;
END $$;

GRANT SELECT, INSERT ON petcare.audit_log TO petcare_app;
GRANT EXECUTE ON FUNCTION petcare.verify_audit_chain(), petcare.audit_reconcile(interval)
    TO petcare_app;
REVOKE EXECUTE ON FUNCTION petcare.verify_audit_chain(), petcare.audit_reconcile(interval),
    petcare.audit_chain() FROM PUBLIC;

ALTER TABLE petcare.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_definer ON petcare.audit_log TO petcare_owner USING (true) WITH CHECK (true);
CREATE POLICY audit_select ON petcare.audit_log FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY audit_insert ON petcare.audit_log FOR INSERT TO petcare_app
    WITH CHECK (user_id IS NOT DISTINCT FROM (SELECT petcare.current_user_id()));

ALTER TABLE petcare.audit_chain_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_chain_head FORCE ROW LEVEL SECURITY;
CREATE POLICY chain_head_definer ON petcare.audit_chain_head TO petcare_owner
    USING (true) WITH CHECK (true);
