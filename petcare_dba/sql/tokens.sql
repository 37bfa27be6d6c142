-- name: api_token_insert
-- A new API token of the acting user (RLS: only for oneself; the trigger caps its role).
INSERT INTO petcare.api_tokens (user_id, name, public_id, token_hash, max_role, connection_ids,
                                expires_at)
VALUES (petcare.current_user_id(), %(name)s, %(public_id)s, %(token_hash)s, %(max_role)s,
        %(connection_ids)s, now() + make_interval(days => %(days)s))
RETURNING id, expires_at

-- name: api_token_list
-- Tokens the actor may see (their own; an admin's: everyone's), newest first; never the hash.
SELECT t.id, t.name, u.username AS owner, t.max_role, t.connection_ids, t.created_at,
       t.expires_at, t.revoked_at, t.last_used_at,
       (t.revoked_at IS NULL AND t.expires_at > now()) AS active
FROM petcare.api_tokens t JOIN petcare.users u ON u.id = t.user_id
ORDER BY t.created_at DESC, t.id DESC

-- name: api_token_revoke
-- Revoke a token the actor may see; returns its id when one was revoked now.
UPDATE petcare.api_tokens SET revoked_at = now()
WHERE id = %(id)s AND revoked_at IS NULL
RETURNING id

-- name: api_token_lookup
-- The live token with this public id and its user (definer: no one is known yet).
SELECT * FROM petcare.api_token_lookup(%(public_id)s)

-- name: api_token_use
-- Count one call of a verified token; the calls in its current one-minute window.
SELECT petcare.api_token_use(%(token_id)s) AS calls
