-- Issue 13: no input exhausts the audit log, and the database binds audit attribution.
-- 1. Stored SQL text is bounded: audit_log and execucoes_scripts keep at most
--    audit_limits.sql_prefix_bytes of it (the app sends a prefix already; these triggers cap
--    whatever arrives) and the sha256 of the whole text as submitted.
-- 2. Refused (and failed-before-running) statements are counted per user and minute in
--    audit_refusal_counts, an upsert that serialises concurrent sessions and app instances; beyond
--    audit_limits.refusals_per_minute one marker row is written and the rest are only counted.
-- 3. Rows written by petcare_app take username and app_role from users (by the user_id the
--    RLS policy already binds to app.user_id), and client_addr from the server-side session
--    row when the session id names one of the user's sessions; otherwise the caller's address
--    is kept and marked caller-supplied in detail.
-- audit_log keeps its columns (the chain hashes to_jsonb of the row: a new column would change
-- every old row's hash), so sizes and sources go in detail.

CREATE TABLE petcare.audit_limits (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    refusals_per_minute integer NOT NULL DEFAULT 30 CHECK (refusals_per_minute >= 0),
    sql_prefix_bytes integer NOT NULL DEFAULT 4096
        CHECK (sql_prefix_bytes BETWEEN 0 AND 65536)
);
INSERT INTO petcare.audit_limits DEFAULT VALUES;
COMMENT ON TABLE petcare.audit_limits IS
    'Audit bounds, written from the settings at start-up through the admin connection only.';

CREATE TABLE petcare.audit_refusal_counts (
    user_id bigint NOT NULL,  -- no FK, like audit_log: counts outlive users
    window_start timestamptz NOT NULL,
    refused integer NOT NULL DEFAULT 0,
    suppressed integer NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, window_start)
);
COMMENT ON TABLE petcare.audit_refusal_counts IS
    'Refused or failed-before-running statements per user and minute; beyond the limit only counted.';

ALTER TABLE petcare.execucoes_scripts ADD COLUMN sql_hash text;
ALTER TABLE petcare.execucoes_scripts ADD COLUMN sql_bytes bigint;
COMMENT ON COLUMN petcare.execucoes_scripts.sql_hash IS
    'sha256 (hex) of the whole text the user submitted; sql_text may be a prefix of it.';

-- At most `cap` bytes of UTF-8, cut on a character boundary.
CREATE FUNCTION petcare.utf8_prefix(t text, cap integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
    cut text := left(t, cap);
BEGIN
    WHILE octet_length(cut) > cap LOOP
        -- a character is 1 to 4 bytes: dropping ceil(excess / 4) never overshoots by more than 3
        cut := left(cut, length(cut) - (octet_length(cut) - cap + 3) / 4);
    END LOOP;
    RETURN cut;
END $$;

-- Count one refusal of the current identity in this minute; returns the count so far.
CREATE FUNCTION petcare.audit_refusal_tick(p_bytes bigint) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
    INSERT INTO petcare.audit_refusal_counts AS c (user_id, window_start, refused, suppressed,
                                                   bytes)
    SELECT petcare.current_user_id(), date_trunc('minute', clock_timestamp()), 1,
           CASE WHEN l.refusals_per_minute < 1 THEN 1 ELSE 0 END, coalesce(p_bytes, 0)
    FROM petcare.audit_limits l
    WHERE petcare.current_user_id() IS NOT NULL
    ON CONFLICT (user_id, window_start) DO UPDATE
        SET refused = c.refused + 1,
            suppressed = c.suppressed + CASE WHEN c.refused + 1 >
                (SELECT l.refusals_per_minute FROM petcare.audit_limits l) THEN 1 ELSE 0 END,
            bytes = c.bytes + EXCLUDED.bytes
    RETURNING refused $$;

CREATE FUNCTION petcare.audit_bind() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    lim petcare.audit_limits;
    who record;
    sess record;
    n integer;
BEGIN
    SELECT * INTO lim FROM petcare.audit_limits;
    IF current_user = 'petcare_app' THEN
        IF NEW.user_id IS NOT NULL THEN
            SELECT u.username, u.role INTO who FROM petcare.users u WHERE u.id = NEW.user_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'audit row for unknown user %', NEW.user_id
                    USING ERRCODE = '42501';
            END IF;
            NEW.username := who.username;
            NEW.app_role := who.role;
            IF NEW.session_id ~ '^s[0-9]{1,18}$' THEN
                SELECT s.client_addr INTO sess FROM petcare.sessions s
                WHERE s.id = substr(NEW.session_id, 2)::bigint AND s.user_id = NEW.user_id;
                IF FOUND THEN
                    NEW.client_addr := sess.client_addr;
                    NEW.detail := NEW.detail || '{"client_addr_source": "session"}';
                END IF;
            END IF;
        ELSE
            NEW.app_role := NULL;  -- no identity, no role; username is the name that was tried
        END IF;
        IF NEW.client_addr IS NOT NULL AND NOT NEW.detail ? 'client_addr_source' THEN
            NEW.detail := NEW.detail || '{"client_addr_source": "caller"}';
        END IF;
    END IF;
    IF octet_length(NEW.sql_text) > lim.sql_prefix_bytes THEN
        -- the database saw the whole text: its own hash replaces whatever the caller sent
        NEW.sql_hash := encode(sha256(convert_to(NEW.sql_text, 'UTF8')), 'hex');
        NEW.detail := NEW.detail || jsonb_build_object(
            'sql_bytes', octet_length(NEW.sql_text), 'sql_truncated', true);
        NEW.sql_text := petcare.utf8_prefix(NEW.sql_text, lim.sql_prefix_bytes);
    END IF;
    IF current_user = 'petcare_app' AND NEW.user_id IS NOT NULL AND NEW.sql_text IS NOT NULL
       AND NEW.outcome IN ('refused', 'error') THEN
        n := petcare.audit_refusal_tick(coalesce((NEW.detail ->> 'sql_bytes')::bigint,
                                                 octet_length(NEW.sql_text)));
        IF n = lim.refusals_per_minute + 1 THEN
            -- one marker per user and minute says where the rest went
            NEW.sql_text := NULL;
            NEW.detail := jsonb_build_object(
                'suppressed', true, 'limit_per_minute', lim.refusals_per_minute,
                'counted_in', 'audit_refusal_counts',
                'window_start', date_trunc('minute', clock_timestamp()),
                'sql_bytes', NEW.detail -> 'sql_bytes');
        ELSIF n > lim.refusals_per_minute + 1 THEN
            RETURN NULL;
        END IF;
    END IF;
    RETURN NEW;
END $$;
-- Fires before audit_log_chain (triggers fire in name order), so the chain hashes the bound row.
CREATE TRIGGER audit_log_a_bind BEFORE INSERT ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.audit_bind();

CREATE FUNCTION petcare.execucoes_scripts_bound() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    lim petcare.audit_limits;
BEGIN
    SELECT * INTO lim FROM petcare.audit_limits;
    IF octet_length(NEW.sql_text) > lim.sql_prefix_bytes THEN
        NEW.sql_hash := encode(sha256(convert_to(NEW.sql_text, 'UTF8')), 'hex');
        NEW.sql_bytes := octet_length(NEW.sql_text);
        NEW.sql_text := petcare.utf8_prefix(NEW.sql_text, lim.sql_prefix_bytes);
    END IF;
    IF TG_OP = 'INSERT' AND current_user = 'petcare_app'
       AND NEW.outcome IN ('refused', 'error')
       AND (SELECT c.refused FROM petcare.audit_refusal_counts c
            WHERE c.user_id = NEW.user_id
              AND c.window_start = date_trunc('minute', clock_timestamp()))
           > lim.refusals_per_minute THEN
        RETURN NULL;  -- counted with its audit row; stored once, not twice
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER execucoes_scripts_bound BEFORE INSERT OR UPDATE OF sql_text
    ON petcare.execucoes_scripts FOR EACH ROW EXECUTE FUNCTION petcare.execucoes_scripts_bound();

-- engine_begin as in 0011, with the whole text's hash and size on the run row.
CREATE OR REPLACE FUNCTION petcare.engine_begin(audit_row jsonb, run_row jsonb) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    run_id bigint;
BEGIN
    PERFORM petcare.audit_append(audit_row);
    INSERT INTO petcare.execucoes_scripts (user_id, connection_id, project_id,
        script_version_id, audit_event_id, session_id, sql_text, statement_index,
        classification, ai_initiated, outcome, sqlstate, message, duration_ms, sql_hash,
        sql_bytes)
    SELECT r.user_id, r.connection_id, r.project_id, r.script_version_id, r.audit_event_id,
        r.session_id, r.sql_text, coalesce(r.statement_index, 0), r.classification,
        coalesce(r.ai_initiated, false), coalesce(r.outcome, 'running'), r.sqlstate, r.message,
        r.duration_ms, r.sql_hash, r.sql_bytes
    FROM jsonb_populate_record(NULL::petcare.execucoes_scripts, run_row) r
    RETURNING id INTO run_id;
    RETURN run_id;
END $$;

REVOKE EXECUTE ON FUNCTION petcare.audit_refusal_tick(bigint), petcare.audit_bind(),
    petcare.execucoes_scripts_bound(), petcare.utf8_prefix(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.audit_refusal_tick(bigint), petcare.utf8_prefix(text, integer)
    TO petcare_app;
GRANT SELECT ON petcare.audit_limits TO petcare_app;
GRANT SELECT ON petcare.audit_refusal_counts TO petcare_app;

ALTER TABLE petcare.audit_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_limits_definer ON petcare.audit_limits TO petcare_owner
    USING (true) WITH CHECK (true);
CREATE POLICY audit_limits_read ON petcare.audit_limits FOR SELECT TO petcare_app USING (true);

ALTER TABLE petcare.audit_refusal_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_refusal_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_refusal_counts_definer ON petcare.audit_refusal_counts TO petcare_owner
    USING (true) WITH CHECK (true);
CREATE POLICY audit_refusal_counts_select ON petcare.audit_refusal_counts FOR SELECT
    TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
