-- Users, sessions, login attempts, key versions and stored connections, with the identity
-- helpers every policy uses. Identity reaches PostgreSQL per transaction through
-- set_config('app.user_id', id, true); policies wrap helpers in (SELECT ...) so they are
-- evaluated once per statement as an InitPlan, not once per row.

CREATE FUNCTION petcare.current_user_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(pg_catalog.current_setting('app.user_id', true), '')::bigint $$;

CREATE TABLE petcare.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$'),
    display_name text NOT NULL DEFAULT '',
    email text,
    role text NOT NULL CHECK (role IN ('admin', 'dba', 'analyst', 'viewer')),
    password_hash text,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    disabled boolean NOT NULL DEFAULT false,
    language text CHECK (language IN ('en', 'pt-BR')),
    totp_secret_enc bytea,
    totp_enabled boolean NOT NULL DEFAULT false,
    oidc_subject text UNIQUE,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON petcare.users (lower(username));
COMMENT ON TABLE petcare.users IS 'App users; password_hash is argon2id and never granted to petcare_app.';

-- The signed-in user's app role, read through a definer so policies need no grant on users.
CREATE FUNCTION petcare.current_app_role() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT u.role FROM petcare.users u
          WHERE u.id = petcare.current_user_id() AND NOT u.disabled $$;

CREATE FUNCTION petcare.is_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT coalesce(petcare.current_app_role() = 'admin', false) $$;

CREATE TABLE petcare.sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    client_addr text,
    user_agent text
);
CREATE INDEX sessions_user_id_idx ON petcare.sessions (user_id);

CREATE TABLE petcare.login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL,
    client_addr text,
    succeeded boolean NOT NULL,
    reason text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_at_idx ON petcare.login_attempts (lower(username), at);
CREATE INDEX login_attempts_addr_at_idx ON petcare.login_attempts (client_addr, at);

CREATE TABLE petcare.encryption_keys (
    version integer PRIMARY KEY,
    wrapped_dek bytea NOT NULL,
    kek_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
COMMENT ON TABLE petcare.encryption_keys IS 'Data keys (AES-256-GCM) wrapped by the key-encryption key; never plaintext.';

CREATE TABLE petcare.connections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    owner_id bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    display_url text NOT NULL,
    secret_enc bytea NOT NULL,
    key_version integer NOT NULL REFERENCES petcare.encryption_keys (version),
    read_only boolean NOT NULL DEFAULT false,
    shared boolean NOT NULL DEFAULT false,
    ai_consent text NOT NULL DEFAULT 'schema'
        CHECK (ai_consent IN ('none', 'schema', 'stats', 'data')),
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_owner_id_idx ON petcare.connections (owner_id);
CREATE INDEX connections_key_version_idx ON petcare.connections (key_version);
COMMENT ON COLUMN petcare.connections.display_url IS 'The URL with its password removed.';
COMMENT ON COLUMN petcare.connections.secret_enc IS 'AEAD envelope of the full conninfo.';

CREATE TABLE petcare.connection_grants (
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    PRIMARY KEY (connection_id, user_id)
);
CREATE INDEX connection_grants_user_id_idx ON petcare.connection_grants (user_id);

CREATE FUNCTION petcare.can_use_connection(conn_id bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, petcare
    AS $$ SELECT EXISTS (
              SELECT 1 FROM petcare.connections c
              WHERE c.id = conn_id AND (c.shared OR c.owner_id = petcare.current_user_id()
                    OR petcare.is_admin()
                    OR EXISTS (SELECT 1 FROM petcare.connection_grants g
                               WHERE g.connection_id = c.id
                                 AND g.user_id = petcare.current_user_id()))) $$;

-- Privileges: petcare_app never sees password_hash or totp secrets; it reads them through the
-- login definer functions in petcare_dba/sql/auth.sql.
GRANT SELECT (id, username, display_name, email, role, disabled, language, totp_enabled,
              oidc_subject, locked_until, password_changed_at, created_at, updated_at)
    ON petcare.users TO petcare_app;
GRANT INSERT (username, display_name, email, role, password_hash, language, disabled),
      UPDATE (display_name, email, role, password_hash, password_changed_at, disabled, language,
              totp_secret_enc, totp_enabled, oidc_subject, locked_until, updated_at)
    ON petcare.users TO petcare_app;
GRANT SELECT, INSERT, UPDATE ON petcare.sessions TO petcare_app;
GRANT SELECT, INSERT ON petcare.login_attempts TO petcare_app;
GRANT SELECT, INSERT, UPDATE ON petcare.encryption_keys TO petcare_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.connections TO petcare_app;
GRANT SELECT, INSERT, DELETE ON petcare.connection_grants TO petcare_app;
GRANT EXECUTE ON FUNCTION petcare.current_user_id(), petcare.current_app_role(),
    petcare.is_admin(), petcare.can_use_connection(bigint) TO petcare_app;
REVOKE EXECUTE ON FUNCTION petcare.current_app_role(), petcare.is_admin(),
    petcare.can_use_connection(bigint) FROM PUBLIC;

-- Row level security: ENABLE + FORCE everywhere; the owner's policies exist only for the
-- SECURITY DEFINER functions (petcare_owner is NOLOGIN and reached through them alone).
ALTER TABLE petcare.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_definer ON petcare.users TO petcare_owner USING (true) WITH CHECK (true);
CREATE POLICY users_select ON petcare.users FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY users_insert ON petcare.users FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY users_update ON petcare.users FOR UPDATE TO petcare_app
    USING (id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY users_delete ON petcare.users FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));
-- A non-admin may not raise their own role: column-level check in a trigger.
CREATE FUNCTION petcare.users_guard() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, petcare AS $$
BEGIN
    IF current_user = 'petcare_app' AND NOT petcare.is_admin()
       AND (NEW.role IS DISTINCT FROM OLD.role OR NEW.disabled IS DISTINCT FROM OLD.disabled
            OR NEW.locked_until IS DISTINCT FROM OLD.locked_until) THEN
        RAISE EXCEPTION 'only an admin may change role, disabled or lock state'
            USING ERRCODE = '42501';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER users_guard BEFORE UPDATE ON petcare.users
    FOR EACH ROW EXECUTE FUNCTION petcare.users_guard();

ALTER TABLE petcare.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_definer ON petcare.sessions TO petcare_owner USING (true) WITH CHECK (true);
CREATE POLICY sessions_own ON petcare.sessions TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));

ALTER TABLE petcare.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.login_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY login_attempts_definer ON petcare.login_attempts TO petcare_owner
    USING (true) WITH CHECK (true);
CREATE POLICY login_attempts_admin ON petcare.login_attempts FOR SELECT TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.encryption_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.encryption_keys FORCE ROW LEVEL SECURITY;
-- Wrapped data keys are useless without the KEK (which never reaches the database), and the app
-- must unwrap them before anyone signs in, so reading them needs no identity.
CREATE POLICY encryption_keys_read ON petcare.encryption_keys FOR SELECT TO petcare_app
    USING (true);
CREATE POLICY encryption_keys_insert ON petcare.encryption_keys FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY encryption_keys_update ON petcare.encryption_keys FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));

ALTER TABLE petcare.connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.connections FORCE ROW LEVEL SECURITY;
CREATE POLICY connections_definer ON petcare.connections FOR SELECT TO petcare_owner
    USING (true);
CREATE POLICY connections_select ON petcare.connections FOR SELECT TO petcare_app
    USING (shared OR owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin())
           OR id IN (SELECT g.connection_id FROM petcare.connection_grants g
                     WHERE g.user_id = (SELECT petcare.current_user_id())));
CREATE POLICY connections_insert ON petcare.connections FOR INSERT TO petcare_app
    WITH CHECK (owner_id = (SELECT petcare.current_user_id())
                AND (SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY connections_update ON petcare.connections FOR UPDATE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY connections_delete ON petcare.connections FOR DELETE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));

ALTER TABLE petcare.connection_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.connection_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY connection_grants_definer ON petcare.connection_grants FOR SELECT TO petcare_owner
    USING (true);
CREATE POLICY connection_grants_select ON petcare.connection_grants FOR SELECT TO petcare_app
    USING (user_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY connection_grants_write ON petcare.connection_grants FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY connection_grants_delete ON petcare.connection_grants FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));
