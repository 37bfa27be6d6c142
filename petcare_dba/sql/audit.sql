-- name: audit_insert
-- Append one audit row (services.security.audit.row_for) through petcare.audit_append, like the engine.
-- The chain trigger fills chain_seq, prev_hash, hash_version and row_hash. Nothing is read back:
-- that would need the SELECT policy, which an anonymous (failed-login) row cannot pass.
SELECT petcare.audit_append(%(row)s::jsonb)

-- name: audit_recent
-- The newest audit rows visible to the current user (own rows; admins all).
SELECT id, chain_seq, at, username, app_role, action, outcome, target, classification,
       sqlstate, rows_affected, duration_ms, ai_initiated, sql_text, detail, session_id
FROM petcare.audit_log
WHERE (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)
  AND (%(username)s::text IS NULL OR username = %(username)s)
ORDER BY chain_seq DESC LIMIT %(limit)s

-- name: audit_verify
-- Walk the hash chain (admins).
SELECT * FROM petcare.verify_audit_chain()

-- name: audit_reconcile
-- Mark intents older than the given minutes without an outcome as unknown (only those of the last `within` minutes past that, when given).
SELECT petcare.audit_reconcile(
    make_interval(mins => %(minutes)s),
    CASE WHEN %(within)s::integer IS NULL THEN NULL
         ELSE make_interval(mins => %(within)s::integer) END) AS n

-- name: audit_search
-- Audit rows visible to the current user (own; admins all) filtered for the Audit page and export.
SELECT id, chain_seq, at, username, app_role, action, outcome, target, classification,
       sqlstate, rows_affected, duration_ms, ai_initiated, sql_text, detail, event_id,
       session_id, client_addr, connection_id, sql_hash, hash_version, prev_hash, row_hash
FROM petcare.audit_log
WHERE (%(username)s::text IS NULL OR lower(username) = lower(%(username)s))
  AND (%(action)s::text IS NULL OR action = %(action)s OR action LIKE %(action)s || '.%%')
  AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)
  AND (%(connection)s::text IS NULL OR target = %(connection)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
ORDER BY chain_seq DESC LIMIT %(limit)s

-- name: audit_event_rows
-- Every row of one event (intent and outcome) visible to the current user, in chain order.
SELECT id, chain_seq, at, username, app_role, action, outcome, target, classification,
       sqlstate, rows_affected, duration_ms, ai_initiated, sql_text, detail, event_id,
       session_id, client_addr, connection_id, sql_hash, hash_version, prev_hash, row_hash
FROM petcare.audit_log WHERE event_id = %(event_id)s ORDER BY chain_seq

-- name: audit_facets
-- Distinct users, actions and connections in the visible log (filter pickers on the Audit page).
SELECT 'user' AS facet, username AS value FROM petcare.audit_log
WHERE username IS NOT NULL GROUP BY username
UNION ALL
SELECT 'action', action FROM petcare.audit_log GROUP BY action
UNION ALL
SELECT 'connection', target FROM petcare.audit_log
WHERE connection_id IS NOT NULL AND target IS NOT NULL GROUP BY target
ORDER BY 1, 2

-- name: audit_security_counts
-- Counts behind security events since a time: failed logins per user and per address,
-- lockouts, refused statements per user, and refusals only counted beyond the per-minute
-- limit (rows the current user may see).
SELECT 'failed_logins' AS kind, coalesce(username, '') AS subject, count(*) AS n,
       min(at) AS first_at, max(at) AS last_at
FROM petcare.audit_log
WHERE action = 'login' AND outcome = 'refused' AND at >= %(since)s
GROUP BY coalesce(username, '')
UNION ALL
SELECT 'failed_logins_from_address', client_addr, count(*), min(at), max(at)
FROM petcare.audit_log
WHERE action = 'login' AND outcome = 'refused' AND at >= %(since)s AND client_addr IS NOT NULL
GROUP BY client_addr
UNION ALL
SELECT 'lockout', coalesce(username, ''), count(*), min(at), max(at)
FROM petcare.audit_log
WHERE action = 'login' AND outcome = 'refused' AND at >= %(since)s
  AND detail ->> 'locked' = 'true'
GROUP BY coalesce(username, '')
UNION ALL
SELECT 'refused_statements', coalesce(username, ''), count(*), min(at), max(at)
FROM petcare.audit_log
WHERE action <> 'login' AND outcome = 'refused' AND at >= %(since)s
GROUP BY coalesce(username, '')
UNION ALL
SELECT 'refusals_suppressed', coalesce(u.username, c.user_id::text), sum(c.suppressed),
       min(c.window_start), max(c.window_start)
FROM petcare.audit_refusal_counts c LEFT JOIN petcare.users u ON u.id = c.user_id
WHERE c.suppressed > 0 AND c.window_start >= date_trunc('minute', %(since)s::timestamptz)
GROUP BY coalesce(u.username, c.user_id::text)
ORDER BY 1, 3 DESC, 2

-- name: audit_chain_tip
-- The chain head (last sequence number and hash), for export to append-only storage (admins).
SELECT * FROM petcare.audit_chain_tip()

-- name: audit_row_hash_at
-- The stored hash of one chain position (checking an exported head against the log).
SELECT row_hash FROM petcare.audit_log WHERE chain_seq = %(seq)s

-- name: audit_limits_apply
-- Write the audit bounds from the settings (admin connection only; petcare_app may only read them).
UPDATE petcare.audit_limits
SET refusals_per_minute = %(refusals_per_minute)s, sql_prefix_bytes = %(sql_prefix_bytes)s
WHERE refusals_per_minute IS DISTINCT FROM %(refusals_per_minute)s
   OR sql_prefix_bytes IS DISTINCT FROM %(sql_prefix_bytes)s

-- name: audit_partitions_maintain
-- The audit log's month partitions (migration 0030): months ahead are created; partitions are
-- never dropped (audit is evidence). left_over: rows a DEFAULT partition holds (see 0030).
SELECT created, left_over FROM petcare.audit_partitions_maintain(%(ahead)s)
