-- The reconcile of orphaned intents (reliability A2) also runs inside the app, once a minute from
-- the collector thread, so an intent whose process died becomes 'unknown' within minutes without
-- an operator's cron. A job that runs that often must not scan the whole log: `within` limits it
-- to intents of a recent window (NULL, the CLI's default, still scans everything), and partial
-- indexes keep both scans small however long the log and the execution history grow.
CREATE INDEX audit_log_intents_at_idx ON petcare.audit_log (at) WHERE outcome = 'intent';
CREATE INDEX execucoes_scripts_running_idx ON petcare.execucoes_scripts (started_at)
    WHERE outcome = 'running';

DROP FUNCTION petcare.audit_reconcile(interval);
CREATE FUNCTION petcare.audit_reconcile(older_than interval DEFAULT '5 minutes',
                                        within interval DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, petcare AS $$
DECLARE
    n integer;
    horizon timestamptz := clock_timestamp() - older_than;
BEGIN
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

REVOKE EXECUTE ON FUNCTION petcare.audit_reconcile(interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION petcare.audit_reconcile(interval, interval) TO petcare_app;
