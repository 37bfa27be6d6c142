-- name: auth_lookup
-- The login row for a username (definer function; works before identity exists).
SELECT * FROM petcare.auth_lookup(%(username)s)

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
