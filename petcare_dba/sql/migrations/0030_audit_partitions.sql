-- Issue 18 (partitioning): the audit log becomes PARTITION BY RANGE (at), one partition a UTC
-- month, without touching its hash chain. The chain never depended on physical order: chain_seq
-- is assigned under the row lock on audit_chain_head, each row hashes prev_hash (the previous
-- row's row_hash) and verify_audit_chain() walks the parent ORDER BY chain_seq, which reads
-- across partitions (a row whose `at` was taken just before a month boundary may hold a higher
-- chain_seq than the first row of the next month: the order is chain_seq's, never at's).
-- What changes:
--   * rows are copied with their ids, chain_seq, hashes and hash_version; nothing is re-hashed;
--   * the unique keys must hold the partition key: PRIMARY KEY (id, at) and UNIQUE (chain_seq,
--     at). A duplicated chain_seq can only come from outside the chain trigger, and the verifier
--     reports it ('missing row' / 'broken link');
--   * the hash functions took the old table's row type, so they are recreated verbatim on the
--     new one; the chain trigger hashes the partition's row as the parent's row type;
--   * append-only on every partition: the row triggers (no UPDATE/DELETE) are cloned to each
--     partition by PostgreSQL; the statement-level TRUNCATE trigger is not, so
--     partition_secure() (0029) gives each partition its own; petcare_app has no privilege on
--     any partition (RLS ENABLE + FORCE, owner policy only), so it reaches rows only through the
--     parent and its policies;
--   * a DEFAULT partition keeps an audit write from ever failing for want of a partition. The
--     retention job creates months ahead (audit_partitions_maintain); rows cannot be moved out
--     of a default (the log is append-only), so if the job has not run for months the rows stay
--     there, chained, protected and verified, and the job reports how many (left_over);
--   * no partition is ever dropped or detached by the app: audit is evidence and no setting asks
--     for its retention.

ALTER TABLE petcare.audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_log RENAME TO audit_log_unpartitioned;
ALTER SEQUENCE petcare.audit_log_id_seq RENAME TO audit_log_unpartitioned_id_seq;
-- These take the table's row type; recreated below, verbatim (0020), on the new table.
DROP FUNCTION petcare.audit_row_hash(petcare.audit_log_unpartitioned);
DROP FUNCTION petcare.audit_canonical_v1(petcare.audit_log_unpartitioned);
DROP FUNCTION petcare.audit_canonical_v2(petcare.audit_log_unpartitioned);

CREATE TABLE petcare.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    chain_seq bigint NOT NULL,
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
    outcome text NOT NULL CONSTRAINT audit_log_outcome_check
        CHECK (outcome IN ('intent', 'ok', 'error', 'refused', 'cancelled', 'timeout', 'unknown',
                           'confirm')),
    sqlstate text,
    rows_affected bigint,
    duration_ms numeric,
    ai_initiated boolean NOT NULL DEFAULT false,
    detail jsonb NOT NULL DEFAULT '{}',
    prev_hash text NOT NULL,
    row_hash text NOT NULL,
    hash_version smallint NOT NULL DEFAULT 2
) PARTITION BY RANGE (at);
COMMENT ON TABLE petcare.audit_log IS 'Append-only, hash-chained audit log. Partitioned: one partition a UTC month (never dropped by the app).';
COMMENT ON COLUMN petcare.audit_log.hash_version IS
    'Canonical form row_hash was computed with: 1 = 0003''s columns, 2 = audit_canonical_v2.';
CREATE TABLE petcare.audit_log_default PARTITION OF petcare.audit_log DEFAULT;

-- The months the existing rows need, and three ahead.
SELECT petcare.partitions_ensure('petcare.audit_log', 'month',
    greatest(coalesce(min(a.at), now()), now() - interval '10 years'), now() + interval '3 months',
    false) FROM petcare.audit_log_unpartitioned a;

-- No trigger exists yet on the new table: the rows are copied as they are, not re-chained.
INSERT INTO petcare.audit_log (id, chain_seq, at, user_id, username, app_role, session_id,
    client_addr, action, event_id, connection_id, target, sql_text, sql_hash, classification,
    outcome, sqlstate, rows_affected, duration_ms, ai_initiated, detail, prev_hash, row_hash,
    hash_version) OVERRIDING SYSTEM VALUE
SELECT id, chain_seq, at, user_id, username, app_role, session_id, client_addr, action, event_id,
       connection_id, target, sql_text, sql_hash, classification, outcome, sqlstate,
       rows_affected, duration_ms, ai_initiated, detail, prev_hash, row_hash, hash_version
FROM petcare.audit_log_unpartitioned ORDER BY chain_seq;
DO $$
BEGIN
    IF (SELECT count(*) FROM petcare.audit_log)
       <> (SELECT count(*) FROM petcare.audit_log_unpartitioned) THEN
        RAISE EXCEPTION 'audit rows were not all copied';
    END IF;
END $$;
SELECT setval(pg_get_serial_sequence('petcare.audit_log', 'id'),
              coalesce(max(id), 1), max(id) IS NOT NULL) FROM petcare.audit_log;
DROP TABLE petcare.audit_log_unpartitioned;

ALTER TABLE petcare.audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id, at);
ALTER TABLE petcare.audit_log ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq, at);
CREATE INDEX audit_log_user_at_idx ON petcare.audit_log (user_id, at DESC);
CREATE INDEX audit_log_action_at_idx ON petcare.audit_log (action, at DESC);
CREATE INDEX audit_log_event_idx ON petcare.audit_log (event_id);
CREATE INDEX audit_log_at_idx ON petcare.audit_log (at DESC);
CREATE INDEX audit_log_intents_at_idx ON petcare.audit_log (at) WHERE outcome = 'intent';

-- 0020's hash functions, verbatim, on the new row type.
CREATE FUNCTION petcare.audit_canonical_v1(r petcare.audit_log) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    AS $$ SELECT r.prev_hash || jsonb_build_object(
        'chain_seq', r.chain_seq, 'at', r.at, 'user_id', r.user_id, 'username', r.username,
        'app_role', r.app_role, 'session_id', r.session_id, 'client_addr', r.client_addr,
        'action', r.action, 'event_id', r.event_id, 'connection_id', r.connection_id,
        'target', r.target, 'sql_text', r.sql_text, 'sql_hash', r.sql_hash,
        'classification', r.classification, 'outcome', r.outcome, 'sqlstate', r.sqlstate,
        'rows_affected', r.rows_affected, 'duration_ms', r.duration_ms,
        'ai_initiated', r.ai_initiated, 'detail', r.detail, 'prev_hash', r.prev_hash)::text $$;

CREATE FUNCTION petcare.audit_canonical_v2(r petcare.audit_log) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    AS $$ SELECT jsonb_build_object(
        'hash_version', r.hash_version, 'chain_seq', r.chain_seq, 'prev_hash', r.prev_hash,
        'at', r.at, 'user_id', r.user_id, 'username', r.username, 'app_role', r.app_role,
        'session_id', r.session_id, 'client_addr', r.client_addr, 'action', r.action,
        'event_id', r.event_id, 'connection_id', r.connection_id, 'target', r.target,
        'sql_text', r.sql_text, 'sql_hash', r.sql_hash, 'classification', r.classification,
        'outcome', r.outcome, 'sqlstate', r.sqlstate, 'rows_affected', r.rows_affected,
        'duration_ms', r.duration_ms, 'ai_initiated', r.ai_initiated,
        'detail', r.detail)::text $$;

CREATE FUNCTION petcare.audit_row_hash(r petcare.audit_log) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    AS $$ SELECT encode(sha256(convert_to(CASE r.hash_version
              WHEN 1 THEN petcare.audit_canonical_v1(r)
              WHEN 2 THEN petcare.audit_canonical_v2(r) END, 'UTF8')), 'hex') $$;

-- As in 0020, except that the row is hashed as the parent's row type: a row trigger of a
-- partitioned table fires on the partition, whose NEW has the partition's own row type (same
-- columns in the same order; the assignment converts it).
CREATE OR REPLACE FUNCTION petcare.audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    head petcare.audit_chain_head;
    r petcare.audit_log;
BEGIN
    SELECT * INTO head FROM petcare.audit_chain_head FOR UPDATE;
    NEW.hash_version := 2;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := '';
    r := NEW;
    NEW.row_hash := petcare.audit_row_hash(r);
    UPDATE petcare.audit_chain_head SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash;
    RETURN NEW;
END $$;

-- The triggers of 0003 and 0018 (row triggers are cloned to every partition, present and
-- future), then each partition's own TRUNCATE trigger.
CREATE TRIGGER audit_log_a_bind BEFORE INSERT ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.audit_bind();
CREATE TRIGGER audit_log_chain BEFORE INSERT ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.audit_chain();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON petcare.audit_log
    FOR EACH ROW EXECUTE FUNCTION petcare.forbid_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON petcare.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION petcare.forbid_change();
SELECT petcare.partition_secure(i.inhrelid::regclass)
FROM pg_catalog.pg_inherits i WHERE i.inhparent = 'petcare.audit_log'::regclass;

-- Grants and RLS as in 0003.
GRANT SELECT, INSERT ON petcare.audit_log TO petcare_app;
ALTER TABLE petcare.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_definer ON petcare.audit_log TO petcare_owner USING (true) WITH CHECK (true);
CREATE POLICY audit_select ON petcare.audit_log FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY audit_insert ON petcare.audit_log FOR INSERT TO petcare_app
    WITH CHECK (user_id IS NOT DISTINCT FROM (SELECT petcare.current_user_id()));

-- The retention job's entry point for the audit log (an admin identity): create `ahead_months`
-- months ahead; never drop. left_over: rows the DEFAULT partition holds (0 unless the job was
-- stopped longer than the months made ahead).
CREATE FUNCTION petcare.audit_partitions_maintain(ahead_months integer, OUT created integer,
                                                  OUT left_over bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    SET lock_timeout = '5s' AS $$
DECLARE
    d record;
    e record;
BEGIN
    IF NOT petcare.is_admin() THEN
        RAISE EXCEPTION 'only an admin may maintain partitions' USING ERRCODE = '42501';
    END IF;
    IF ahead_months NOT BETWEEN 1 AND 24 THEN
        RAISE EXCEPTION 'ahead_months outside 1..24' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO d FROM petcare.partitions_drain('petcare.audit_log', 'month', false);
    SELECT * INTO e FROM petcare.partitions_ensure('petcare.audit_log', 'month', now(),
                                                   now() + make_interval(months => ahead_months),
                                                   false);
    created := d.created + e.created;
    left_over := d.left_over;
END $$;
REVOKE EXECUTE ON FUNCTION petcare.audit_partitions_maintain(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.audit_partitions_maintain(integer) TO petcare_app;
