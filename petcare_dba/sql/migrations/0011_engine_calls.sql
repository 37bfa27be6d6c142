-- The engine's metadata writes around each statement as one call each (services.engine_log):
-- engine_begin commits the audit intent with its execucoes_scripts row (reliability A1),
-- engine_finish records the outcome (A2). Both are SECURITY INVOKER: they run as petcare_app,
-- so the RLS policies of audit_log and execucoes_scripts judge them exactly as the plain
-- INSERT/UPDATE statements they replace. What they add is speed: PL/pgSQL keeps its plans per
-- server connection, where the plain statements (whose RLS checks are costly to plan) were
-- planned again on every call, because the metadata pool uses no client-side prepared statements
-- so that transaction poolers work; and a call needs one round trip.

-- One audit row from a jsonb object keyed by column name (services.audit.params_for).
CREATE FUNCTION petcare.audit_append(audit_row jsonb) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    INSERT INTO petcare.audit_log (chain_seq, user_id, username, app_role, session_id,
        client_addr, action, event_id, connection_id, target, sql_text, sql_hash,
        classification, outcome, sqlstate, rows_affected, duration_ms, ai_initiated, detail,
        prev_hash, row_hash)
    SELECT 0, a.user_id, a.username, a.app_role, a.session_id, a.client_addr, a.action,
        a.event_id, a.connection_id, a.target, a.sql_text, a.sql_hash, a.classification,
        a.outcome, a.sqlstate, a.rows_affected, a.duration_ms, coalesce(a.ai_initiated, false),
        coalesce(a.detail, '{}'), '', ''
    FROM jsonb_populate_record(NULL::petcare.audit_log, audit_row) a;
END $$;

-- The intent and the 'running' execution row, together; returns the execution id.
CREATE FUNCTION petcare.engine_begin(audit_row jsonb, run_row jsonb) RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    run_id bigint;
BEGIN
    PERFORM petcare.audit_append(audit_row);
    INSERT INTO petcare.execucoes_scripts (user_id, connection_id, project_id,
        script_version_id, audit_event_id, session_id, sql_text, statement_index,
        classification, ai_initiated, outcome, sqlstate, message, duration_ms)
    SELECT r.user_id, r.connection_id, r.project_id, r.script_version_id, r.audit_event_id,
        r.session_id, r.sql_text, coalesce(r.statement_index, 0), r.classification,
        coalesce(r.ai_initiated, false), coalesce(r.outcome, 'running'), r.sqlstate, r.message,
        r.duration_ms
    FROM jsonb_populate_record(NULL::petcare.execucoes_scripts, run_row) r
    RETURNING id INTO run_id;
    RETURN run_id;
END $$;

-- How a running statement ended, and its audit outcome row. The intent was already durable, so
-- the outcome commits without waiting for the WAL flush: a server crash can lose the last
-- fraction of a second of outcomes, which audit_reconcile() then marks 'unknown'.
CREATE FUNCTION petcare.engine_finish(run_id bigint, run_row jsonb, audit_row jsonb)
    RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE petcare.execucoes_scripts e
    SET outcome = r.outcome, duration_ms = r.duration_ms, rows_affected = r.rows_affected,
        sqlstate = r.sqlstate, message = r.message
    FROM jsonb_populate_record(NULL::petcare.execucoes_scripts, run_row) r
    WHERE e.id = run_id;
    PERFORM petcare.audit_append(audit_row);
END $$;

REVOKE EXECUTE ON FUNCTION petcare.audit_append(jsonb), petcare.engine_begin(jsonb, jsonb),
    petcare.engine_finish(bigint, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.audit_append(jsonb), petcare.engine_begin(jsonb, jsonb),
    petcare.engine_finish(bigint, jsonb, jsonb) TO petcare_app;
