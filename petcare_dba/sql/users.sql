-- name: auth_begin
-- Check the lockout policy and record the attempt; when it may proceed, the argon2 parameters and
-- salt of the user's hash (a stable fake for an unknown user), never the digest (definer).
SELECT * FROM petcare.auth_begin(%(username)s, %(client_addr)s,
    make_interval(mins => %(window_min)s), %(free)s, %(base_s)s, %(cap_s)s,
    %(account_ceiling)s, %(account_slow_s)s, %(addr_threshold)s)

-- name: auth_verify
-- Compare the digest the app computed with the stored one and close the attempt (definer).
SELECT * FROM petcare.auth_verify(%(attempt_id)s, %(digest)s,
    make_interval(mins => %(window_min)s))

-- name: auth_finish
-- Close an attempt that waits for its second factor; returns the guesses of that account and
-- address.
SELECT petcare.auth_finish(%(attempt_id)s, %(succeeded)s, %(reason)s,
    make_interval(mins => %(window_min)s)) AS guesses

-- name: auth_gate
-- The lockout policy's verdict for an account and address, without recording anything.
SELECT * FROM petcare.auth_gate(%(username)s, %(client_addr)s,
    make_interval(mins => %(window_min)s), %(free)s, %(base_s)s, %(cap_s)s,
    %(account_ceiling)s, %(account_slow_s)s, %(addr_threshold)s)

-- name: auth_failures
-- Failed-login counts for a username and a client address within their windows.
SELECT * FROM petcare.auth_failures(%(username)s, %(client_addr)s,
    make_interval(mins => %(user_window_min)s), make_interval(hours => 1))

-- name: auth_record_attempt
-- Record a login attempt; returns the failure counts after it.
SELECT * FROM petcare.auth_record_attempt(%(username)s, %(client_addr)s, %(succeeded)s,
    %(reason)s, make_interval(mins => %(user_window_min)s), make_interval(hours => 1))

-- name: session_create
-- A new server-side session for the identity of the current transaction.
INSERT INTO petcare.sessions (user_id, token_hash, expires_at, client_addr, user_agent)
VALUES (%(user_id)s, %(token_hash)s, now() + make_interval(hours => %(absolute_hours)s),
        %(client_addr)s, %(user_agent)s)
RETURNING id

-- name: session_resolve
-- The live session for a token hash (idle/absolute expiry, revocation, disabled users).
SELECT * FROM petcare.session_resolve(%(token_hash)s, make_interval(mins => %(idle_min)s))

-- name: session_revoke
-- Revoke one session of the current user.
UPDATE petcare.sessions SET revoked_at = now() WHERE id = %(session_id)s AND revoked_at IS NULL

-- name: session_revoke_all
-- Revoke every open session of a user.
UPDATE petcare.sessions SET revoked_at = now() WHERE user_id = %(user_id)s AND revoked_at IS NULL

-- name: admin_count
-- Enabled admins (definer; used to decide whether the first admin must be created).
SELECT petcare.admin_count() AS n

-- name: user_insert_bootstrap
-- The first admin, inserted by the migrator connection (superuser or BYPASSRLS).
INSERT INTO petcare.users (username, display_name, role, password_hash)
VALUES (%(username)s, %(display_name)s, 'admin', %(password_hash)s)
RETURNING id

-- name: user_recover_admin
-- Break-glass (admin URL): make a user an enabled admin; a new password hash when given.
UPDATE petcare.users
SET role = 'admin', disabled = false,
    password_hash = coalesce(%(password_hash)s, password_hash),
    password_changed_at = CASE WHEN %(password_hash)s::text IS NULL THEN password_changed_at
                               ELSE now() END
WHERE lower(username) = lower(%(username)s)
RETURNING id

-- name: user_insert
-- A new user (admins only, enforced by RLS).
INSERT INTO petcare.users (username, display_name, email, role, password_hash)
VALUES (%(username)s, %(display_name)s, %(email)s, %(role)s, %(password_hash)s)
RETURNING id

-- name: user_list
-- Every user, for admin listings and member pickers (no secrets are granted).
SELECT id, username, display_name, email, role, disabled, language, totp_enabled, locked_until,
       created_at
FROM petcare.users ORDER BY lower(username)

-- name: user_by_name
-- One user by username (case-insensitive).
SELECT id, username, display_name, email, role, disabled, language
FROM petcare.users WHERE lower(username) = lower(%(username)s)

-- name: user_first_admin
-- The oldest enabled admin: the CLI's default actor.
SELECT id, username, role FROM petcare.users
WHERE role = 'admin' AND NOT disabled ORDER BY id LIMIT 1

-- name: user_set_role
-- Change a user's app role (admins only: RLS plus the users_guard trigger).
UPDATE petcare.users SET role = %(role)s WHERE lower(username) = lower(%(username)s) RETURNING id

-- name: user_set_disabled
-- Enable or disable a user (admins only).
UPDATE petcare.users SET disabled = %(disabled)s WHERE lower(username) = lower(%(username)s)
RETURNING id

-- name: user_set_password
-- Set a password hash; password_changed_at ends every older session.
UPDATE petcare.users SET password_hash = %(password_hash)s, password_changed_at = now()
WHERE id = %(user_id)s RETURNING id

-- name: user_rehash
-- Replace a hash with a stronger one after a successful login (sessions stay valid).
UPDATE petcare.users SET password_hash = %(password_hash)s WHERE id = %(user_id)s

-- name: user_set_language
-- Remember the user's UI language.
UPDATE petcare.users SET language = %(language)s WHERE id = %(user_id)s

-- name: user_unlock
-- Clear a lockout: an 'unlocked' attempt resets the failure window.
SELECT * FROM petcare.auth_record_attempt(%(username)s, NULL, false, 'unlocked',
    make_interval(mins => 1), make_interval(hours => 1))

-- name: session_handoff_insert
-- A single-use code (hashed) that hands one of the user's sessions to the cookie route.
INSERT INTO petcare.session_handoffs (code_hash, user_id, session_id, token_enc, expires_at)
VALUES (%(code_hash)s, %(user_id)s, %(session_id)s, %(token_enc)s,
        now() + make_interval(secs => %(seconds)s))

-- name: session_handoff_take
-- Consume a handoff code (definer: the cookie route has no identity yet).
SELECT * FROM petcare.session_handoff_take(%(code_hash)s)

-- name: session_revoke_token
-- Revoke the session named by a token hash (cookie logout).
SELECT petcare.session_revoke_token(%(token_hash)s) AS revoked

-- name: user_sessions
-- A user's live sessions (own; admins any user's).
SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.client_addr
FROM petcare.sessions s
WHERE s.user_id = %(user_id)s AND s.revoked_at IS NULL AND s.expires_at > now()
ORDER BY s.id

-- name: auth_totp
-- The sealed TOTP secret of the user whose password was just verified (definer).
SELECT * FROM petcare.auth_totp(%(user_id)s)

-- name: auth_totp_accept
-- Accept a TOTP time step once (replay protection); true when accepted.
SELECT petcare.auth_totp_accept(%(user_id)s, %(step)s) AS accepted

-- name: user_set_totp
-- Store (or clear) a user's sealed TOTP secret (self or admin, by RLS).
UPDATE petcare.users SET totp_secret_enc = %(secret)s, totp_enabled = %(enabled)s
WHERE id = %(user_id)s RETURNING id

-- name: auth_lockout_status
-- Failed logins of one account in the last hour, all addresses (admin views).
SELECT account_failures FROM petcare.auth_gate(%(username)s, %(client_addr)s,
    make_interval(mins => %(window_min)s), %(free)s, %(base_s)s, %(cap_s)s,
    %(account_ceiling)s, %(account_slow_s)s, %(addr_threshold)s)

-- name: session_handoff_pending
-- Whether a handoff code of the current user is still waiting to be exchanged.
SELECT EXISTS (SELECT 1 FROM petcare.session_handoffs WHERE code_hash = %(code_hash)s) AS pending

-- name: auth_oidc_lookup
-- The app user an OIDC identity maps to (subject, else verified e-mail); definer.
SELECT * FROM petcare.auth_oidc_lookup(%(subject)s, %(email)s)

-- name: user_bind_oidc
-- Bind an OIDC subject to the signed-in user (first sign-in matched by e-mail).
UPDATE petcare.users SET oidc_subject = %(subject)s WHERE id = %(user_id)s AND oidc_subject IS NULL
