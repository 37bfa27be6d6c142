-- Issue 19, settings page: what an admin changed at run time, kept in the store so that every
-- instance applies it without a restart (services/settings_admin.py). One row per setting the
-- registry declares `runtime_editable`; a row is a value over the setting's default (a value
-- pinned in the file or environment still wins, settings/resolved.py). A secret (an AI key, the
-- SMTP password) is stored only sealed, in the same envelope as connection credentials
-- (AES-GCM under a data key version, bound to the setting's name); a plain value in value_text.
-- The CHECKs are the backstop whatever the app says: exactly one of the two, the envelope's
-- magic, a bounded value without control characters.
-- RLS: only admins write. Reading: admins, and the process itself before anyone is known (no
-- user id: each instance loads the overrides at start and every settings_refresh_s, like the
-- wrapped data keys the sealed values are useless without the KEK, which never reaches the
-- database); a signed-in user who is not an admin sees no row.

CREATE TABLE petcare.setting_overrides (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    value_text text CHECK (octet_length(value_text) <= 4096 AND value_text !~ '[[:cntrl:]]'),
    secret_enc bytea CHECK (octet_length(secret_enc) BETWEEN 35 AND 8192
                            AND substring(secret_enc FROM 1 FOR 3) = '\x504331'::bytea),
    key_version integer REFERENCES petcare.encryption_keys (version),
    updated_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((value_text IS NULL) <> (secret_enc IS NULL)),
    CHECK ((secret_enc IS NULL) = (key_version IS NULL))
);
CREATE INDEX setting_overrides_key_version_idx ON petcare.setting_overrides (key_version);
CREATE INDEX setting_overrides_updated_by_idx ON petcare.setting_overrides (updated_by);
COMMENT ON COLUMN petcare.setting_overrides.secret_enc IS
    'AEAD envelope of a secret setting (purpose setting:<name>); never plaintext.';

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.setting_overrides TO petcare_app;

ALTER TABLE petcare.setting_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.setting_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY setting_overrides_read ON petcare.setting_overrides FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NULL OR (SELECT petcare.is_admin()));
CREATE POLICY setting_overrides_insert ON petcare.setting_overrides FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()) AND updated_by = (SELECT petcare.current_user_id()));
CREATE POLICY setting_overrides_update ON petcare.setting_overrides FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin()))
    WITH CHECK ((SELECT petcare.is_admin()) AND updated_by = (SELECT petcare.current_user_id()));
CREATE POLICY setting_overrides_delete ON petcare.setting_overrides FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));
