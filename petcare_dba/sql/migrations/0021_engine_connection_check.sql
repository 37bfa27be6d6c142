-- Issue 16 (two round trips): the engine caches a user's connection lookup for a few seconds
-- per process, so the one metadata round trip of a statement, its audit intent, also checks
-- the lookup: engine_begin refuses (SQLSTATE PC409, nothing is written, nothing runs) when the
-- connection the run names is no longer visible to the acting user under row-level security
-- (removed, unshared, a grant revoked, the user's role changed) or its row changed since it was
-- read (a new credential, read-only flag, flags, key rotation: every UPDATE gives the row a new
-- xmin). The engine then drops its cached lookup and starts the run again from a fresh one.
-- A run row without connection_stamp (no lookup was cached) is not checked.
CREATE OR REPLACE FUNCTION petcare.engine_begin(audit_row jsonb, run_row jsonb) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    run_id bigint;
BEGIN
    IF run_row ? 'connection_stamp' AND NOT EXISTS (
        SELECT 1 FROM petcare.connections c
        WHERE c.id = (run_row->>'connection_id')::bigint
          AND c.xmin::text = run_row->>'connection_stamp') THEN
        RAISE EXCEPTION 'the connection changed or is no longer shared with you'
            USING ERRCODE = 'PC409';
    END IF;
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
