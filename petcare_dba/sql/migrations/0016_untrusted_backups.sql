-- Backups are untrusted input once they sit on disk (issue 14): a restore used to rebuild the
-- table from the column types written in manifest.json, which anyone who can write the backup
-- store could edit. Each backup now records its column definitions in the catalogue at backup
-- time (name, the type's base name and typmod, format_type() text, collation, read from the
-- target's catalog inside the COPY snapshot); restore and preview resolve those through the
-- target's catalogue and refuse a manifest that disagrees. Old rows keep NULL (legacy backups).
ALTER TABLE petcare.table_backups ADD COLUMN columns jsonb
    CHECK (columns IS NULL OR jsonb_typeof(columns) = 'array');
COMMENT ON COLUMN petcare.table_backups.columns IS
    'Column definitions at backup time: [{name, base, typmod, type, collation}], from the target catalog.';
