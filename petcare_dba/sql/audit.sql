-- name: audit_insert
-- Append one audit row; the chain trigger fills chain_seq, prev_hash and row_hash. No
-- RETURNING: it would need the SELECT policy, which an anonymous (failed-login) row cannot pass.
INSERT INTO petcare.audit_log (chain_seq, user_id, username, app_role, session_id, client_addr,
    action, event_id, connection_id, target, sql_text, sql_hash, classification, outcome,
    sqlstate, rows_affected, duration_ms, ai_initiated, detail, prev_hash, row_hash)
VALUES (0, %(user_id)s, %(username)s, %(app_role)s, %(session_id)s, %(client_addr)s, %(action)s,
    %(event_id)s, %(connection_id)s, %(target)s, %(sql_text)s, %(sql_hash)s, %(classification)s,
    %(outcome)s, %(sqlstate)s, %(rows_affected)s, %(duration_ms)s, %(ai_initiated)s,
    %(detail)s, '', '')

-- name: audit_recent
-- The newest audit rows visible to the current user (own rows; admins all).
SELECT id, chain_seq, at, username, app_role, action, outcome, target, classification,
       sqlstate, rows_affected, duration_ms, ai_initiated, sql_text, detail
FROM petcare.audit_log
WHERE (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)
  AND (%(username)s::text IS NULL OR username = %(username)s)
ORDER BY chain_seq DESC LIMIT %(limit)s

-- name: audit_verify
-- Walk the hash chain (admins).
SELECT * FROM petcare.verify_audit_chain()

-- name: audit_reconcile
-- Mark intents older than the given minutes without an outcome as unknown.
SELECT petcare.audit_reconcile(make_interval(mins => %(minutes)s)) AS n
