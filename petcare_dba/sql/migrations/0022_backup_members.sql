-- Partitioned tables are backed up whole (issue 16): the catalogue records the members of the
-- partition tree (each member's name, parent, partition key and bounds, and for each leaf its data
-- file, row count, byte size and sha256) and the table's structure read from the target's catalog
-- at backup time (NOT NULL, defaults, identity, constraints, indexes) that `restore --into`
-- recreates. Both are the catalogue's to say: a restore refuses a manifest that disagrees, so an
-- edited file on disk can never smuggle a default, a check or a partition bound into DDL.
-- Older rows keep NULL (an ordinary table restored bare, as before). RLS is the table's own
-- (0006): only dba and admin users read or write these rows.
ALTER TABLE petcare.table_backups
    ADD COLUMN members jsonb CHECK (members IS NULL OR jsonb_typeof(members) = 'array'),
    ADD COLUMN structure jsonb CHECK (structure IS NULL OR jsonb_typeof(structure) = 'object');
COMMENT ON COLUMN petcare.table_backups.members IS
    'Partition tree at backup time: [{schema, table, parent, partitioned, key, bound, data_file, rows, bytes, sha256}], root first.';
COMMENT ON COLUMN petcare.table_backups.structure IS
    'Structure at backup time: {columns: [{name, not_null, default, identity, serial}], constraints, indexes}.';
