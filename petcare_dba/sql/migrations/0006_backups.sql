-- The catalogue of table backups and restores (issue 5). The files live in the backup store
-- (setting backup_dir); these rows say what each holds, who made it and whether it is good.
-- A backup or restore row is inserted as 'running' before any byte moves and updated to 'ok' or
-- 'failed' when it ends, so an interrupted one is visible. Only dba and admin users see or
-- write them (RLS ENABLE + FORCE); every action is also in the audit log.

CREATE TABLE petcare.table_backups (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id bigint REFERENCES petcare.connections (id) ON DELETE SET NULL,
    connection_name text NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'ok', 'failed', 'deleted')),
    path text,
    server_version text,
    row_count bigint,
    byte_size bigint,
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    error text,
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_by_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    verified_at timestamptz,
    verify_ok boolean
);
COMMENT ON TABLE petcare.table_backups IS 'Table backups in the backup store: COPY binary data, DDL and a manifest.';
CREATE INDEX table_backups_table_idx
    ON petcare.table_backups (connection_name, schema_name, table_name, created_at DESC);
CREATE INDEX table_backups_connection_id_idx ON petcare.table_backups (connection_id);
CREATE INDEX table_backups_created_by_idx ON petcare.table_backups (created_by);

CREATE TABLE petcare.table_restores (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backup_id bigint NOT NULL REFERENCES petcare.table_backups (id) ON DELETE CASCADE,
    mode text NOT NULL CHECK (mode IN ('new', 'replace')),
    target_schema text NOT NULL,
    target_table text NOT NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
    row_count bigint,
    verified boolean,
    error text,
    created_by bigint REFERENCES petcare.users (id) ON DELETE SET NULL,
    created_by_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
COMMENT ON TABLE petcare.table_restores IS 'Restores of table backups, into a new table or over the original.';
CREATE INDEX table_restores_backup_idx ON petcare.table_restores (backup_id, created_at DESC);
CREATE INDEX table_restores_created_by_idx ON petcare.table_restores (created_by);

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.table_backups, petcare.table_restores
    TO petcare_app;

ALTER TABLE petcare.table_backups ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.table_backups FORCE ROW LEVEL SECURITY;
CREATE POLICY table_backups_select ON petcare.table_backups FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY table_backups_insert ON petcare.table_backups FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
                AND created_by = (SELECT petcare.current_user_id()));
CREATE POLICY table_backups_update ON petcare.table_backups FOR UPDATE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'))
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY table_backups_delete ON petcare.table_backups FOR DELETE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));

ALTER TABLE petcare.table_restores ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.table_restores FORCE ROW LEVEL SECURITY;
CREATE POLICY table_restores_select ON petcare.table_restores FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY table_restores_insert ON petcare.table_restores FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba')
                AND created_by = (SELECT petcare.current_user_id()));
CREATE POLICY table_restores_update ON petcare.table_restores FOR UPDATE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'))
    WITH CHECK ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
CREATE POLICY table_restores_delete ON petcare.table_restores FOR DELETE TO petcare_app
    USING ((SELECT petcare.current_app_role()) IN ('admin', 'dba'));
