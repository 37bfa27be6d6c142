-- name: engine_guards
-- Every guard of a user statement's transaction in one statement (one message of the pipeline, not four): the settings that change how the server lexes user text, pinned to what the classifier (pglast) assumes (reliability Q12); the timeouts; the role's work_mem ceiling (lowered, never raised) when it has one, and its temp_file_limit when the login role may set it (NULL otherwise). `true` makes each SET LOCAL: they end with the transaction. Qualified with pg_catalog: a target's search_path naming a schema before pg_catalog cannot put its own set_config in their place.
SELECT pg_catalog.set_config('standard_conforming_strings', 'on', true),
       pg_catalog.set_config('backslash_quote', 'safe_encoding', true),
       pg_catalog.set_config('client_encoding', 'UTF8', true),
       pg_catalog.set_config('statement_timeout', %(statement_timeout)s, true),
       pg_catalog.set_config('lock_timeout', %(lock_timeout)s, true),
       pg_catalog.set_config('idle_in_transaction_session_timeout', %(idle_timeout)s, true),
       CASE WHEN %(work_mem_kb)s::bigint > 0 THEN pg_catalog.set_config('work_mem',
           LEAST(pg_catalog.pg_size_bytes(pg_catalog.current_setting('work_mem')) / 1024,
                 %(work_mem_kb)s::bigint)::text || 'kB', true) END,
       CASE WHEN %(temp_file_limit)s::text IS NOT NULL
            THEN pg_catalog.set_config('temp_file_limit', %(temp_file_limit)s::text, true) END

-- name: engine_begin_read_only
-- Opens a user statement's transaction where PostgreSQL refuses every write (reliability Q1).
BEGIN READ ONLY

-- name: engine_begin_read_write
-- Opens a user statement's writable transaction; explicit, whatever default_transaction_read_only says.
BEGIN READ WRITE

-- name: engine_cursor_declare
-- A server-side cursor over a user's plain query (composed: name is an Identifier, query last).
DECLARE {name} NO SCROLL CURSOR FOR {query}

-- name: engine_cursor_fetch
-- The next batch of a server-side cursor (composed: count is a Literal, name an Identifier).
FETCH FORWARD {count} FROM {name}

-- name: engine_set_session_limits
-- Session-level guards for statements that cannot run in a transaction (VACUUM, CONCURRENTLY); the connection is discarded afterwards.
SELECT set_config('statement_timeout', %(statement_timeout)s, false),
       set_config('lock_timeout', %(lock_timeout)s, false),
       set_config('idle_in_transaction_session_timeout', %(idle_timeout)s, false)

-- name: engine_function_volatility
-- Volatility (i, s, v) of every overload of the named functions on the target.
SELECT p.proname AS name, n.nspname AS schema, p.provolatile::text AS volatility
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%(names)s)
ORDER BY p.proname, n.nspname

-- name: engine_run_insert
-- One execucoes_scripts row for a statement about to run (outcome 'running') or already decided.
INSERT INTO petcare.execucoes_scripts (user_id, connection_id, project_id, script_version_id,
    audit_event_id, session_id, sql_text, statement_index, classification, ai_initiated,
    outcome, sqlstate, message, duration_ms, sql_hash, sql_bytes)
VALUES (%(user_id)s, %(connection_id)s, %(project_id)s, %(script_version_id)s, %(event_id)s,
    %(session_id)s, %(sql_text)s, %(statement_index)s, %(classification)s, %(ai_initiated)s,
    %(outcome)s, %(sqlstate)s, %(message)s, %(duration_ms)s, %(sql_hash)s, %(sql_bytes)s)
RETURNING id

-- name: engine_history
-- Executions visible to the current user (own, project members'; admins all), filtered, newest first.
SELECT e.id, e.started_at, u.username, c.name AS connection, e.outcome, e.classification,
       e.duration_ms, e.rows_affected, e.sqlstate, e.message, e.sql_text, e.statement_index,
       e.ai_initiated, e.project_id, e.script_version_id
FROM petcare.execucoes_scripts e
JOIN petcare.users u ON u.id = e.user_id
LEFT JOIN petcare.connections c ON c.id = e.connection_id
WHERE (%(outcome)s::text IS NULL OR e.outcome = %(outcome)s)
  AND (%(connection)s::text IS NULL OR c.name = %(connection)s)
  AND (%(username)s::text IS NULL OR u.username = %(username)s)
  AND (%(since)s::timestamptz IS NULL OR e.started_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR e.started_at < %(until)s)
  AND (%(search)s::text IS NULL OR e.sql_text ILIKE '%%' || %(search)s || '%%')
ORDER BY e.started_at DESC, e.id DESC
LIMIT %(limit)s

-- name: engine_draft_save
-- Autosave the editor text of the current user for one connection.
INSERT INTO petcare.editor_drafts (user_id, connection_id, content, updated_at)
VALUES ((SELECT petcare.current_user_id()), %(connection_id)s, %(content)s, now())
ON CONFLICT (user_id, connection_id)
DO UPDATE SET content = EXCLUDED.content, updated_at = EXCLUDED.updated_at

-- name: engine_draft_load
-- The current user's draft for one connection.
SELECT content, updated_at FROM petcare.editor_drafts
WHERE user_id = (SELECT petcare.current_user_id()) AND connection_id = %(connection_id)s

-- name: engine_reset_session_limits
-- Undo engine_set_session_limits, so that a transaction pooler never hands the settings to another client.
SELECT set_config(s.name, s.reset_val, false)
FROM pg_catalog.pg_settings s
WHERE s.name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')
ORDER BY s.name

-- name: engine_intent_call
-- The audit intent of one statement, durable before it runs (A1); refuses a stale connection lookup (PC409).
SELECT petcare.engine_intent(%(audit)s::jsonb, %(connection_id)s, %(stamp)s)

-- name: engine_settle_call
-- How a statement ended: its execucoes_scripts row and the audit outcome row (A2), written after the response, committed without waiting for the WAL flush.
SELECT petcare.engine_settle(%(run)s::jsonb, %(outcome)s::jsonb, %(audit)s::jsonb)

-- name: engine_pin_lexing
-- The settings that change how the server lexes user text, pinned to what the classifier (pglast) assumes, for this transaction only (reliability Q12).
SELECT pg_catalog.set_config('standard_conforming_strings', 'on', true),
       pg_catalog.set_config('backslash_quote', 'safe_encoding', true),
       pg_catalog.set_config('client_encoding', 'UTF8', true)

-- name: engine_pin_lexing_session
-- engine_pin_lexing for a statement that runs outside a transaction block; the connection is discarded afterwards.
SELECT pg_catalog.set_config('standard_conforming_strings', 'on', false),
       pg_catalog.set_config('backslash_quote', 'safe_encoding', false),
       pg_catalog.set_config('client_encoding', 'UTF8', false)

-- name: engine_may_set_temp_file_limit
-- Whether the login role may SET temp_file_limit: superuser, or GRANT SET ON PARAMETER (PostgreSQL 15+).
SELECT pg_catalog.has_parameter_privilege('temp_file_limit', 'SET') AS allowed

-- name: engine_is_superuser
-- Before PostgreSQL 15 only a superuser may SET temp_file_limit.
SELECT r.rolsuper AS allowed FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
