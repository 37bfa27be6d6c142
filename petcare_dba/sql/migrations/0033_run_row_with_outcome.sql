-- Issue 16: the request path of a statement writes the durable audit intent only (reliability
-- A1); its execucoes_scripts row is written with its outcome, after the response, in the same
-- transaction as the audit outcome row (A2). Until then the history does not show the run; once
-- the outcome lands it is exact. What the request path saved: the run row's insert and its eight
-- index entries (about 0.2 ms of the store's 0.7 ms on the benchmark machine).
--
-- engine_begin / engine_finish stay: a process of the previous version, during a rolling
-- upgrade, still writes a 'running' row first and updates it after, and audit_reconcile still
-- turns such a row 'unknown'. An intent of this version whose process died before its outcome
-- has no run row at all: audit_reconcile now writes it, as 'unknown', from the intent.

-- The connection check of engine_begin (0021), then the intent. Returns nothing: the run row's
-- id only exists once the outcome is written.
CREATE FUNCTION petcare.engine_intent(audit_row jsonb, connection_id bigint, stamp text)
    RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF stamp IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM petcare.connections c
        WHERE c.id = connection_id AND c.xmin::text = stamp) THEN
        RAISE EXCEPTION 'the connection changed or is no longer shared with you'
            USING ERRCODE = 'PC409';
    END IF;
    PERFORM petcare.audit_append(audit_row);
END $$;

-- A statement's run row and its audit outcome, committed together without waiting for the WAL
-- flush (as engine_finish). The row is inserted 'running' and then updated, as a previous
-- version's pair of calls did, so that every trigger and policy sees what it always saw (an
-- executed statement's error is never counted as a refusal); it starts when its intent was
-- written (the intent's row, read under the caller's row-level security), and the outcome row
-- names it (detail.execution_id).
CREATE FUNCTION petcare.engine_settle(run_row jsonb, outcome_row jsonb, audit_row jsonb)
    RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
DECLARE
    run_id bigint;
    began timestamptz;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT min(a.at) INTO began FROM petcare.audit_log a
    WHERE a.event_id = (run_row ->> 'audit_event_id')::uuid AND a.outcome = 'intent';
    INSERT INTO petcare.execucoes_scripts (user_id, connection_id, project_id,
        script_version_id, audit_event_id, session_id, sql_text, statement_index,
        classification, ai_initiated, outcome, sql_hash, sql_bytes, started_at)
    SELECT r.user_id, r.connection_id, r.project_id, r.script_version_id, r.audit_event_id,
        r.session_id, r.sql_text, coalesce(r.statement_index, 0), r.classification,
        coalesce(r.ai_initiated, false), 'running', r.sql_hash, r.sql_bytes,
        coalesce(began, now())
    FROM jsonb_populate_record(NULL::petcare.execucoes_scripts, run_row) r
    RETURNING id INTO run_id;
    UPDATE petcare.execucoes_scripts e
    SET outcome = r.outcome, duration_ms = r.duration_ms, rows_affected = r.rows_affected,
        sqlstate = r.sqlstate, message = r.message
    FROM jsonb_populate_record(NULL::petcare.execucoes_scripts, outcome_row) r
    WHERE e.id = run_id;
    PERFORM petcare.audit_append(jsonb_set(audit_row, '{detail,execution_id}', to_jsonb(run_id)));
    RETURN run_id;
END $$;

REVOKE EXECUTE ON FUNCTION petcare.engine_intent(jsonb, bigint, text),
    petcare.engine_settle(jsonb, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.engine_intent(jsonb, bigint, text),
    petcare.engine_settle(jsonb, jsonb, jsonb) TO petcare_app;

-- The reconcile may now also insert, and only 'unknown' rows (RLS is FORCEd; 0010's policies
-- let it see and update 'running' rows only).
CREATE POLICY runs_reconcile_insert ON petcare.execucoes_scripts FOR INSERT TO petcare_owner
    WITH CHECK (outcome = 'unknown');

-- As in 0012, plus: an orphaned intent of a statement (action sql.execute) without a run row
-- gets one, 'unknown', from what the intent holds (its text is the submitted text's prefix, its
-- place in the script from detail.statement_index). A run row a previous version left
-- 'running' is updated as before, and then needs none.
CREATE OR REPLACE FUNCTION petcare.audit_reconcile(older_than interval DEFAULT '5 minutes',
                                                   within interval DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    n integer;
    horizon timestamptz := clock_timestamp() - older_than;
BEGIN
    INSERT INTO petcare.execucoes_scripts (user_id, connection_id, audit_event_id, session_id,
        sql_text, statement_index, classification, ai_initiated, started_at, outcome, sql_hash)
    SELECT i.user_id, c.id, i.event_id, i.session_id, coalesce(i.sql_text, ''),
           coalesce((i.detail ->> 'statement_index')::integer, 0),
           coalesce(i.classification, 'unknown'), i.ai_initiated, i.at, 'unknown', i.sql_hash
    FROM petcare.audit_log i
    JOIN petcare.users u ON u.id = i.user_id  -- a user removed since has no history to keep
    LEFT JOIN petcare.connections c ON c.id = i.connection_id  -- nor a removed connection
    WHERE i.outcome = 'intent' AND i.action = 'sql.execute'
      AND i.at < horizon AND (within IS NULL OR i.at >= horizon - within)
      AND NOT EXISTS (SELECT 1 FROM petcare.audit_log o
                      WHERE o.event_id = i.event_id AND o.outcome <> 'intent')
      AND NOT EXISTS (SELECT 1 FROM petcare.execucoes_scripts e
                      WHERE e.outcome = 'running' AND e.audit_event_id = i.event_id)
    ORDER BY i.chain_seq;
    INSERT INTO petcare.audit_log (chain_seq, user_id, username, app_role, session_id, action,
        event_id, connection_id, target, sql_hash, classification, outcome, detail,
        prev_hash, row_hash)
    SELECT 0, i.user_id, i.username, i.app_role, i.session_id, i.action, i.event_id,
           i.connection_id, i.target, i.sql_hash, i.classification, 'unknown',
           jsonb_build_object('reconciled', true), '', ''
    FROM petcare.audit_log i
    WHERE i.outcome = 'intent' AND i.at < horizon
      AND (within IS NULL OR i.at >= horizon - within)
      AND NOT EXISTS (SELECT 1 FROM petcare.audit_log o
                      WHERE o.event_id = i.event_id AND o.outcome <> 'intent')
    ORDER BY i.chain_seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE petcare.execucoes_scripts e SET outcome = 'unknown'
    WHERE e.outcome = 'running' AND e.started_at < horizon
      AND (within IS NULL OR e.started_at >= horizon - within);
    RETURN n;
END $$;
