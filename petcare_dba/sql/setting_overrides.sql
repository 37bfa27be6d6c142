-- name: setting_overrides_all
-- Every run-time override (values sealed when secret); read as the process (no user) or an admin.
SELECT name, value_text, secret_enc, key_version, updated_at
FROM petcare.setting_overrides
ORDER BY name

-- name: setting_overrides_detail
-- The overrides with who changed each and when, for the Settings page and `settings list`.
SELECT o.name, o.secret_enc IS NOT NULL AS sealed, o.updated_at, u.username AS updated_by
FROM petcare.setting_overrides o
LEFT JOIN petcare.users u ON u.id = o.updated_by
ORDER BY o.name

-- name: setting_override_put
-- Set one override (insert or replace); admins only (RLS). Returns the name.
INSERT INTO petcare.setting_overrides (name, value_text, secret_enc, key_version, updated_by)
VALUES (%(name)s, %(value_text)s, %(secret_enc)s, %(key_version)s, petcare.current_user_id())
ON CONFLICT (name) DO UPDATE
SET value_text = EXCLUDED.value_text, secret_enc = EXCLUDED.secret_enc,
    key_version = EXCLUDED.key_version, updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING name

-- name: setting_override_delete
-- Drop one override (back to the configured value); admins only (RLS). Returns the name.
DELETE FROM petcare.setting_overrides WHERE name = %(name)s RETURNING name
