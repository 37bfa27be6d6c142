-- Issue 15 (one record format): the audit row gets a versioned canonical form.
-- Until now row_hash was sha256(prev_hash || to_jsonb(row) - 'row_hash' - 'id'): every column
-- of the table was hashed, so adding one (0018 had to put new facts in detail instead) would have
-- changed the hash of every stored row and `audit verify` would have called the whole history
-- tampered. From here on each row says which form it was hashed with (hash_version):
--   1  the form of 0003, frozen to the 21 columns 0003 created (every row written before this
--      migration);
--   2  an explicit, named list of fields (audit_canonical_v2), the form of every new row.
-- A column added later is not hashed until a new version names it; old rows keep verifying with
-- the form they were written with. The chain itself does not change: the first version-2 row's
-- prev_hash is the last version-1 row's row_hash.
-- Only the hash functions, the chain trigger and the verifier are replaced (same signatures, so
-- their grants stay); the table keeps its RLS (ENABLE + FORCE), policies and grants.

-- Existing rows get 1 (filled from the ADD COLUMN default, no row is updated, so the
-- append-only triggers are not involved); new rows 2.
ALTER TABLE petcare.audit_log ADD COLUMN hash_version smallint NOT NULL DEFAULT 1;
ALTER TABLE petcare.audit_log ALTER COLUMN hash_version SET DEFAULT 2;
COMMENT ON COLUMN petcare.audit_log.hash_version IS
    'Canonical form row_hash was computed with: 1 = 0003''s columns, 2 = audit_canonical_v2.';

-- Version 1, frozen: the jsonb object of 0003's columns (less id and row_hash), prefixed with
-- prev_hash. Rebuilt from that column list rather than to_jsonb(r) so that hash_version and any
-- column added after it stay out; jsonb_build_object converts each value exactly as to_jsonb of
-- the row did, and jsonb orders keys itself, so the text is the one 0003 hashed.
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

-- Version 2: the one place that names the hashed fields. A jsonb object rather than a delimited
-- text: every value keeps its type and is escaped by jsonb (no text value can forge a delimiter
-- or another field), NULL stays distinct from '' (null vs ""), the key order is jsonb's own and
-- not the order written here, and it is the serializer version 1 already trusts. hash_version
-- and prev_hash are fields like the others: a row moved to another form or another link no
-- longer matches its hash. id is left out as in version 1 (chain_seq is the row's place).
-- To hash a new column, add version 3 with its own function; never edit this list.
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

-- The hash of a row in the form its hash_version names; NULL for a version this database does
-- not know (the verifier reports it, never skips it).
CREATE OR REPLACE FUNCTION petcare.audit_row_hash(r petcare.audit_log) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog SET "TimeZone" = 'UTC'
    AS $$ SELECT encode(sha256(convert_to(CASE r.hash_version
              WHEN 1 THEN petcare.audit_canonical_v1(r)
              WHEN 2 THEN petcare.audit_canonical_v2(r) END, 'UTF8')), 'hex') $$;

-- As in 0003, and every new row takes the current form: the writer does not choose it (a row
-- written as version 1 would leave every later column out of its hash).
CREATE OR REPLACE FUNCTION petcare.audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    head petcare.audit_chain_head;
BEGIN
    SELECT * INTO head FROM petcare.audit_chain_head FOR UPDATE;
    NEW.hash_version := 2;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := '';
    NEW.row_hash := petcare.audit_row_hash(NEW);
    UPDATE petcare.audit_chain_head SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash;
    RETURN NEW;
END $$;

-- As in 0003, with the hash compared IS DISTINCT FROM (an unknown hash_version gives NULL, which
-- `<>` would have let through) and that case named.
CREATE OR REPLACE FUNCTION petcare.verify_audit_chain(
    OUT ok boolean, OUT checked bigint, OUT first_broken_seq bigint, OUT reason text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    SET "TimeZone" = 'UTC' AS $$
DECLARE
    r petcare.audit_log;
    expected_prev text := repeat('0', 64);
    expected_seq bigint := 1;
    head petcare.audit_chain_head;
    computed text;
BEGIN
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
        computed := petcare.audit_row_hash(r);
        IF computed IS NULL THEN
            ok := false; first_broken_seq := r.chain_seq;
            reason := 'unknown hash version ' || coalesce(r.hash_version::text, 'NULL'); RETURN;
        END IF;
        IF computed IS DISTINCT FROM r.row_hash THEN
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
