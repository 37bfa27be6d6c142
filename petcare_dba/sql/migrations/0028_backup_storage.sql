-- Backup storage backends (issue 18): a backup's files live in the local directory (backup_dir)
-- or in S3-compatible object storage that every instance sharing this catalogue reaches.
-- `storage` says where ('local', or 's3://<bucket>'); `objects` names each stored file's key,
-- byte size and sha256 computed while it streamed up, so a read is checked before any byte is
-- believed. Older rows are 'local' with NULL objects (today's layout). `kind` tells a table
-- backup from a whole-database one (pg_dump --format=custom of the connection's database: its
-- table_name is the database's name, schema_name empty; columns and members stay NULL). RLS is
-- the table's own (0006): only dba and admin users read or write these rows.
ALTER TABLE petcare.table_backups
    ADD COLUMN storage text NOT NULL DEFAULT 'local'
        CHECK (storage = 'local' OR storage ~ '^s3://[a-z0-9][a-z0-9.-]{1,62}$'),
    ADD COLUMN objects jsonb CHECK (objects IS NULL OR jsonb_typeof(objects) = 'object'),
    ADD COLUMN kind text NOT NULL DEFAULT 'table' CHECK (kind IN ('table', 'database'));
COMMENT ON COLUMN petcare.table_backups.storage IS
    'Where the backup''s files are: local (backup_dir) or s3://<bucket>.';
COMMENT ON COLUMN petcare.table_backups.kind IS
    'table (COPY files and a manifest) or database (one pg_dump custom-format archive).';
COMMENT ON COLUMN petcare.table_backups.objects IS
    'Stored files of an object-storage backup: {file name: {key, bytes, sha256}}.';
