-- name: bootstrap_roles
-- Cluster roles and the app schema; idempotent, run by the migrator (admin URL) before migrations.
-- petcare_owner owns every object and is NOLOGIN: it is only ever reached through SET ROLE by the
-- migrator and through SECURITY DEFINER functions. petcare_app is the runtime role the policies
-- name (NOLOGIN, NOBYPASSRLS). petcare_login is the LOGIN role the app connects as: NOINHERIT, so
-- it holds no privilege of its own until each transaction runs SET LOCAL ROLE petcare_app.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'petcare_owner') THEN
        CREATE ROLE petcare_owner NOLOGIN NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'petcare_app') THEN
        CREATE ROLE petcare_app NOLOGIN NOBYPASSRLS NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'petcare_login') THEN
        CREATE ROLE petcare_login LOGIN NOINHERIT NOBYPASSRLS;
    END IF;
    IF NOT pg_catalog.pg_has_role(current_user, 'petcare_owner', 'MEMBER') THEN
        EXECUTE pg_catalog.format('GRANT petcare_owner TO %I', current_user);
    END IF;
    IF NOT pg_catalog.pg_has_role('petcare_login', 'petcare_app', 'MEMBER') THEN
        GRANT petcare_app TO petcare_login;
    END IF;
END
$$;
CREATE SCHEMA IF NOT EXISTS petcare AUTHORIZATION petcare_owner;
REVOKE ALL ON SCHEMA petcare FROM PUBLIC;
GRANT USAGE ON SCHEMA petcare TO petcare_app;
ALTER ROLE petcare_login SET statement_timeout = '30s';
ALTER ROLE petcare_login SET idle_in_transaction_session_timeout = '5min';

-- name: create_migrations_table
-- The ledger of applied migrations (owned by petcare_owner, RLS like every table).
CREATE TABLE IF NOT EXISTS petcare.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    applied_by text NOT NULL DEFAULT session_user
);
ALTER TABLE petcare.schema_migrations OWNER TO petcare_owner;
ALTER TABLE petcare.schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.schema_migrations FORCE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policies
                   WHERE schemaname = 'petcare' AND tablename = 'schema_migrations') THEN
        CREATE POLICY migrations_owner ON petcare.schema_migrations TO petcare_owner
            USING (true) WITH CHECK (true);
        CREATE POLICY migrations_read ON petcare.schema_migrations FOR SELECT TO petcare_app
            USING (true);
    END IF;
END
$$;
GRANT SELECT ON petcare.schema_migrations TO petcare_app;
