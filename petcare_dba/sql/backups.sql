-- Catalogue of table backups and restores in the metadata store (migration 0006). RLS lets
-- only dba and admin users read or write these rows.

-- name: backup_insert
-- Record a backup as running before any data moves.
INSERT INTO petcare.table_backups (connection_id, connection_name, schema_name, table_name,
                                   created_by, created_by_name)
VALUES (%(connection_id)s, %(connection_name)s, %(schema)s, %(table)s, %(user_id)s, %(username)s)
RETURNING id, created_at

-- name: backup_finish
-- Mark a backup ok or failed with what it holds or why it failed.
UPDATE petcare.table_backups
SET status = %(status)s, path = %(path)s, server_version = %(server_version)s,
    row_count = %(row_count)s, byte_size = %(byte_size)s, sha256 = %(sha256)s,
    error = %(error)s, columns = %(columns)s::jsonb, members = %(members)s::jsonb,
    structure = %(structure)s::jsonb, storage = %(storage)s, objects = %(objects)s::jsonb,
    finished_at = now()
WHERE id = %(id)s

-- name: backup_get
-- One backup of the catalogue.
SELECT id, connection_name, schema_name, table_name, status, path, server_version, row_count,
       byte_size, sha256, error, created_by_name, created_at, finished_at, verified_at, verify_ok,
       columns, members, structure, storage, objects, kind
FROM petcare.table_backups WHERE id = %(id)s

-- name: backup_list
-- Backups, newest first, optionally of one connection and table.
SELECT id, connection_name, schema_name, table_name, status, path, server_version, row_count,
       byte_size, sha256, error, created_by_name, created_at, finished_at, verified_at, verify_ok,
       columns, members, structure, storage, objects, kind
FROM petcare.table_backups
WHERE (%(connection)s::text IS NULL OR connection_name = %(connection)s)
  AND (%(schema)s::text IS NULL OR schema_name = %(schema)s)
  AND (%(table)s::text IS NULL OR table_name = %(table)s)
  AND (%(include_deleted)s OR status <> 'deleted')
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s

-- name: backup_verified
-- Record the outcome of verifying a backup.
UPDATE petcare.table_backups SET verified_at = now(), verify_ok = %(ok)s WHERE id = %(id)s

-- name: backup_expired
-- Finished backups older than the retention period.
SELECT id, path, storage, objects FROM petcare.table_backups
WHERE status IN ('ok', 'failed') AND created_at < now() - make_interval(days => %(days)s)
ORDER BY id

-- name: backup_mark_deleted
-- A backup whose files were removed by retention.
UPDATE petcare.table_backups SET status = 'deleted' WHERE id = %(id)s

-- name: restore_insert
-- Record a restore as running before it starts.
INSERT INTO petcare.table_restores (backup_id, mode, target_schema, target_table, created_by,
                                    created_by_name)
VALUES (%(backup_id)s, %(mode)s, %(schema)s, %(table)s, %(user_id)s, %(username)s)
RETURNING id

-- name: restore_finish
-- Mark a restore ok or failed.
UPDATE petcare.table_restores
SET status = %(status)s, row_count = %(row_count)s, verified = %(verified)s, error = %(error)s,
    finished_at = now()
WHERE id = %(id)s

-- name: restore_list
-- Restores of one backup, newest first.
SELECT id, backup_id, mode, target_schema, target_table, status, row_count, verified, error,
       created_by_name, created_at, finished_at
FROM petcare.table_restores WHERE backup_id = %(backup_id)s
ORDER BY created_at DESC, id DESC

-- name: backup_owned_sequences
-- Ascending sequences owned by a table's columns (serial and identity), for the advance after a replace-restore.
SELECT a.attname AS column_name,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS sequence
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_sequence s ON s.seqrelid = d.objid
JOIN pg_catalog.pg_class c ON c.oid = d.objid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_catalog.pg_class'::regclass
  AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = %(table)s::regclass AND d.deptype IN ('a', 'i') AND s.seqincrement > 0
ORDER BY a.attnum

-- name: backup_advance_sequence
-- Move a sequence up to its column's largest restored value, never down (composed: column and table are Identifiers).
SELECT setval(%(sequence)s::regclass, x.m) AS value
FROM (SELECT max({column})::bigint AS m FROM {table}) x
WHERE x.m IS NOT NULL
  AND x.m > coalesce(pg_catalog.pg_sequence_last_value(%(sequence)s::regclass), x.m - 1)

-- name: backup_heartbeat
-- The process running a backup is alive (every 30 s while it runs).
UPDATE petcare.table_backups SET heartbeat_at = now() WHERE id = %(id)s AND status = 'running'

-- name: restore_heartbeat
-- The process running a restore is alive (every 30 s while it runs).
UPDATE petcare.table_restores SET heartbeat_at = now() WHERE id = %(id)s AND status = 'running'

-- name: backup_mark_interrupted
-- Backups whose process stopped beating: failed, with the reason; returns what the job must clean.
-- The error is msg.backups.interrupted word for word (read back translated).
UPDATE petcare.table_backups
SET status = 'failed', finished_at = now(),
    error = 'interrupted: the process running it stopped (no heartbeat since '
            || to_char(heartbeat_at, 'YYYY-MM-DD HH24:MI:SS TZ') || ')'
WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => %(stale_s)s)
RETURNING id, connection_name, schema_name, table_name, error

-- name: restore_mark_interrupted
-- Restores whose process stopped beating: failed (their transaction died with the process).
-- The error is msg.backups.restore_interrupted word for word (read back translated).
UPDATE petcare.table_restores
SET status = 'failed', finished_at = now(),
    error = 'interrupted: the process running it stopped; its transaction was rolled back'
WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => %(stale_s)s)
RETURNING id, backup_id, target_schema, target_table, error

-- name: backup_column_defs
-- Column definitions of a table as a backup records them, stored or generated ones (read inside the COPY snapshot, on the target).
SELECT a.attname AS name,
       pg_catalog.format_type(a.atttypid, NULL) AS base,
       a.atttypmod AS typmod,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
       END AS collation
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attgenerated <> '') = %(generated)s
ORDER BY a.attnum

-- name: backup_resolve_type
-- A recorded column type resolved through the target's catalogue: NULL when it names no type.
SELECT pg_catalog.format_type(pg_catalog.to_regtype(%(base)s), %(typmod)s) AS type

-- name: backup_resolve_collation
-- A recorded collation resolved through the target's catalogue: NULL when it names none.
SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.collname) AS collation
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE c.oid = pg_catalog.to_regcollation(%(collation)s)

-- name: backup_members
-- The partition tree of a table on the target, root first then level by level (an ordinary table is its own one-member tree).
WITH tree AS (
    SELECT t.relid, t.parentrelid, t.level
    FROM pg_catalog.pg_partition_tree(%(table)s::regclass) t
    UNION ALL
    SELECT %(table)s::regclass, NULL, 0
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(%(table)s::regclass))
)
SELECT n.nspname AS schema, c.relname AS table,
       CASE WHEN t.level > 0 THEN pn.nspname END AS parent_schema,
       CASE WHEN t.level > 0 THEN p.relname END AS parent_table,
       c.relkind::text AS relkind,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS key,
       CASE WHEN t.level > 0 THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS bound
FROM tree t
JOIN pg_catalog.pg_class c ON c.oid = t.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class p ON p.oid = t.parentrelid
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
ORDER BY t.level, n.nspname, c.relname

-- name: backup_structure_columns
-- NOT NULL, default, identity and owned serial sequence of each backed-up column (read with an empty search_path, so every name is qualified).
SELECT a.attname AS name, a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default",
       a.attidentity::text AS identity,
       CASE WHEN a.attidentity = '' AND sq.seq IS NOT NULL
             AND pg_catalog.pg_get_expr(d.adbin, d.adrelid)
                 = 'nextval(' || pg_catalog.quote_literal(sq.seq::regclass::text) || '::regclass)'
            THEN sq.type END AS serial
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL (
    SELECT s.seqrelid AS seq, pg_catalog.format_type(s.seqtypid, NULL) AS type
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
    WHERE dep.classid = 'pg_catalog.pg_class'::regclass
      AND dep.refclassid = 'pg_catalog.pg_class'::regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'
    ORDER BY s.seqrelid LIMIT 1
) sq ON true
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated = ''
ORDER BY a.attnum

-- name: backup_structure_constraints
-- Primary key, unique, exclusion, check and foreign-key constraints defined on a table, as the server prints them.
SELECT k.conname AS name, k.contype::text AS kind, pg_catalog.pg_get_constraintdef(k.oid) AS definition
FROM pg_catalog.pg_constraint k
WHERE k.conrelid = %(table)s::regclass AND k.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END,
         k.conname

-- name: backup_structure_indexes
-- Valid indexes of a table that back no constraint: name, uniqueness and the definition after USING (NULL when the server printed an unexpected head).
SELECT ic.relname AS name, i.indisunique AS "unique",
       CASE WHEN pg_catalog.starts_with(x.def, x.head)
            THEN substr(x.def, length(x.head) + 1) END AS method
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
           || pg_catalog.quote_ident(ic.relname) || ' ON '
           || CASE WHEN c.relkind = 'p' THEN 'ONLY ' ELSE '' END
           || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
           || ' USING ' AS head
) x
WHERE i.indrelid = %(table)s::regclass AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname

-- name: backup_structure_generated
-- The expression of each generated column, and whether it is stored ('s') or virtual ('v').
SELECT a.attname AS name, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS expression,
       a.attgenerated::text AS kind
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated <> ''
ORDER BY a.attnum
