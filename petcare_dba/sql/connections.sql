-- name: key_versions
-- Stored (wrapped) data keys.
SELECT version, wrapped_dek, kek_id FROM petcare.encryption_keys ORDER BY version

-- name: key_insert
-- Store a new wrapped data key.
INSERT INTO petcare.encryption_keys (version, wrapped_dek, kek_id)
VALUES (%(version)s, %(wrapped_dek)s, %(kek_id)s)

-- name: key_rewrap
-- Replace a data key's wrapping after a KEK rotation.
UPDATE petcare.encryption_keys SET wrapped_dek = %(wrapped_dek)s, kek_id = %(kek_id)s
WHERE version = %(version)s

-- name: connection_insert
-- Register a target connection owned by the current user.
INSERT INTO petcare.connections (name, owner_id, display_url, secret_enc, key_version, read_only,
                                 shared, description, read_secret_enc, read_display_url,
                                 ambient_credentials, allow_stats)
VALUES (%(name)s, %(owner_id)s, %(display_url)s, %(secret_enc)s, %(key_version)s, %(read_only)s,
        %(shared)s, %(description)s, %(read_secret_enc)s, %(read_display_url)s,
        %(ambient_credentials)s, %(allow_stats)s)
RETURNING id

-- name: connection_list
-- Connections visible to the current user (RLS decides which).
SELECT c.id, c.name, c.display_url, c.read_only, c.shared, c.ai_consent, c.description,
       u.username AS owner, c.created_at, c.read_display_url, c.ambient_credentials,
       c.allow_stats
FROM petcare.connections c LEFT JOIN petcare.users u ON u.id = c.owner_id
ORDER BY c.name

-- name: connection_secret
-- The sealed conninfo of one visible connection.
SELECT id, name, display_url, secret_enc, key_version, read_only, ai_consent, read_secret_enc,
       ambient_credentials, allow_stats, xmin::text AS stamp
FROM petcare.connections WHERE name = %(name)s

-- name: connection_all_secrets
-- Every sealed conninfo (admin key rotation).
SELECT id, name, secret_enc, read_secret_enc, key_version FROM petcare.connections ORDER BY id

-- name: connection_reseal
-- Replace a connection's sealed conninfo (re-encryption under a new key version).
UPDATE petcare.connections SET secret_enc = %(secret_enc)s, key_version = %(key_version)s,
    read_secret_enc = %(read_secret_enc)s, updated_at = now() WHERE id = %(id)s

-- name: channel_all_secrets
-- Every alert channel's sealed secret, for a re-seal under a new key version (admins, by RLS).
SELECT id, name, secret_enc FROM petcare.alert_channels WHERE secret_enc IS NOT NULL ORDER BY id

-- name: channel_reseal
-- Replace an alert channel's sealed secret (re-encryption under a new key version).
UPDATE petcare.alert_channels SET secret_enc = %(secret_enc)s, key_version = %(key_version)s
WHERE id = %(id)s

-- name: setting_all_secrets
-- Every sealed run-time setting, for a re-seal under a new key version (admins, by RLS).
SELECT name, secret_enc FROM petcare.setting_overrides WHERE secret_enc IS NOT NULL ORDER BY name

-- name: setting_reseal
-- Replace a sealed setting's envelope (re-encryption, not a new value: updated_at stays; RLS wants the admin doing it as updated_by).
UPDATE petcare.setting_overrides SET secret_enc = %(secret_enc)s, key_version = %(key_version)s,
    updated_by = petcare.current_user_id()
WHERE name = %(name)s

-- name: connection_delete
-- Remove a connection (owner or admin, by RLS).
DELETE FROM petcare.connections WHERE name = %(name)s RETURNING id

-- name: connection_set_read_secret
-- Set (or clear) the read-only credential; both envelopes under the current key version.
UPDATE petcare.connections SET secret_enc = %(secret_enc)s, key_version = %(key_version)s,
    read_secret_enc = %(read_secret_enc)s, read_display_url = %(read_display_url)s,
    updated_at = now()
WHERE name = %(name)s RETURNING id

-- name: connection_set_flags
-- Mark a connection to use ambient credentials and/or allow statistics roles on its read path.
UPDATE petcare.connections SET ambient_credentials = %(ambient_credentials)s,
    allow_stats = %(allow_stats)s, updated_at = now()
WHERE name = %(name)s RETURNING id
