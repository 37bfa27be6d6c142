-- Least privilege for the read path (issue 12, reliability Q3 and Q14): a connection may carry a
-- second, read-only credential (sealed like the main one, bound to "connection:<name>:read") that
-- viewers, read-only connections and the assistant use; `ambient_credentials` lets an admin allow
-- one connection to borrow the app process's PG* environment, .pgpass or service file (off by
-- default); `allow_stats` lets its read path be a member of pg_monitor / pg_read_all_stats.
-- No new table: the existing RLS policies of petcare.connections cover the new columns.
ALTER TABLE petcare.connections
    ADD COLUMN read_secret_enc bytea,
    ADD COLUMN read_display_url text,
    ADD COLUMN ambient_credentials boolean NOT NULL DEFAULT false,
    ADD COLUMN allow_stats boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN petcare.connections.read_secret_enc IS
    'AEAD envelope of the read-only conninfo used by viewers, read-only runs and the assistant.';
COMMENT ON COLUMN petcare.connections.read_display_url IS 'The read-only URL without its password.';
COMMENT ON COLUMN petcare.connections.ambient_credentials IS
    'When true, libpq may fill this connection from the app''s PG* variables, .pgpass, services.';
COMMENT ON COLUMN petcare.connections.allow_stats IS
    'When true, the read path may be a member of pg_monitor / pg_read_all_stats.';
