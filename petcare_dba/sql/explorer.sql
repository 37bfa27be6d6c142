-- Catalog queries of the database explorer (issue 5).
--
-- Discovery reads a whole database in a constant number of queries (schemas, relations with
-- their columns aggregated, functions, extensions) whatever its size: no per-table query, so a
-- schema with 10,000 tables costs the same four round trips as one with ten. Table detail reads
-- one table in a constant number of queries keyed by its oid (resolved first, never shown).
-- Callers run these with search_path = pg_catalog so format_type, pg_get_expr and
-- pg_get_*def qualify every name and the generated DDL does not depend on a search_path.

-- name: explorer_schemas
-- User schemas with owner and comment (system and temporary schemas left out).
SELECT n.nspname AS schema,
       pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       d.description AS comment
FROM pg_catalog.pg_namespace n
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname

-- name: explorer_relations
-- Every table, partition, view, materialised view, foreign table and sequence with estimates and columns.
-- Sizes come from relpages (pages at the last VACUUM/ANALYZE/CREATE INDEX), like reltuples: the
-- size functions stat every fork of every relation and index, which costs ~1 s per 10,000 tables;
-- table detail reads exact sizes. NULL means "never analysed" (reltuples = -1), not zero.
WITH cols AS (
    SELECT a.attrelid,
           pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) AS columns,
           pg_catalog.string_agg(cd.description, ' ' ORDER BY a.attnum) AS column_comments
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_description cd
           ON cd.objoid = a.attrelid AND cd.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND cd.objsubid = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    GROUP BY a.attrelid
), idx AS (
    SELECT x.indrelid, pg_catalog.sum(ic.relpages)::bigint AS pages
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
    GROUP BY x.indrelid
), blk AS (
    SELECT pg_catalog.current_setting('block_size')::bigint AS size
)
SELECT n.nspname AS schema,
       c.relname AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
            WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
            WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' END AS kind,
       pn.nspname AS parent_schema,
       p.relname AS parent_name,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows,
       CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0
            THEN blk.size * c.relpages END AS table_bytes,
       CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0
            THEN blk.size * coalesce(idx.pages, 0) END AS index_bytes,
       CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0
            THEN blk.size * (coalesce(t.relpages, 0) + coalesce(tidx.pages, 0)) END AS toast_bytes,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       -- The pg_stat_get_* functions directly: the pg_stat_all_tables view aggregates over
       -- every index of the database first, which is a third of this query's time.
       pg_catalog.pg_stat_get_last_vacuum_time(c.oid) AS last_vacuum,
       pg_catalog.pg_stat_get_last_autovacuum_time(c.oid) AS last_autovacuum,
       pg_catalog.pg_stat_get_last_analyze_time(c.oid) AS last_analyze,
       pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze,
       d.description AS comment,
       coalesce(cols.columns, '{}') AS columns,
       cols.column_comments
FROM pg_catalog.pg_class c
CROSS JOIN blk
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid AND c.reltoastrelid <> 0
LEFT JOIN idx ON idx.indrelid = c.oid
LEFT JOIN idx tidx ON tidx.indrelid = c.reltoastrelid AND c.reltoastrelid <> 0
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = 0
LEFT JOIN cols ON cols.attrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, c.relname

-- name: explorer_functions
-- Functions, procedures and aggregates of user schemas with their signatures.
SELECT n.nspname AS schema,
       p.proname AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS arguments,
       pg_catalog.pg_get_function_result(p.oid) AS result,
       CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure'
            WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' END AS kind,
       l.lanname AS language,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       p.prosecdef AS security_definer,
       d.description AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, p.proname, 3

-- name: explorer_extensions
-- Installed extensions with version and schema.
SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema,
       d.description AS comment
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = e.oid AND d.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass
ORDER BY e.extname

-- name: explorer_resolve
-- The relation named schema.name (its oid stays internal) and the server version.
SELECT c.oid AS oid, c.relkind::text AS relkind,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s

-- name: explorer_table_head
-- One relation's kind, owner, persistence, options, partitioning, inheritance, RLS and sizes.
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qualified,
       c.relpersistence::text AS persistence,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)) AS owner_quoted,
       c.reloptions AS options,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition
            THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       c.relispartition AS is_partition,
       coalesce((SELECT pg_catalog.array_agg(ip.inhparent::pg_catalog.regclass::text
                                             ORDER BY ip.inhseqno)
                   FROM pg_catalog.pg_inherits ip WHERE ip.inhrelid = c.oid), '{}') AS parents,
       (SELECT pg_catalog.array_agg(ic.inhrelid::pg_catalog.regclass::text ORDER BY 1)
          FROM pg_catalog.pg_inherits ic WHERE ic.inhparent = c.oid) AS children,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       c.relreplident::text AS replica_identity,
       pg_catalog.quote_ident(am.amname) AS access_method,
       pg_catalog.quote_ident(ts.spcname) AS tablespace,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS view_sql,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows,
       CASE WHEN c.relkind IN ('r', 'm')
            THEN pg_catalog.pg_total_relation_size(c.oid) ELSE 0 END AS total_bytes,
       CASE WHEN c.relkind IN ('r', 'm')
            THEN pg_catalog.pg_indexes_size(c.oid) ELSE 0 END AS index_bytes,
       CASE WHEN c.reltoastrelid <> 0
            THEN pg_catalog.pg_total_relation_size(c.reltoastrelid) ELSE 0 END AS toast_bytes,
       st.last_vacuum, st.last_autovacuum, st.last_analyze, st.last_autoanalyze,
       st.seq_scan, st.idx_scan, st.n_live_tup AS live_rows, st.n_dead_tup AS dead_rows,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
LEFT JOIN pg_catalog.pg_stat_all_tables st ON st.relid = c.oid
WHERE c.oid = %(oid)s

-- name: explorer_columns
-- Columns of one relation: type, collation, nullability, default, identity, generation, comment,
-- primary key position.
SELECT a.attnum AS position, a.attname AS name, pg_catalog.quote_ident(a.attname) AS quoted,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END
           AS default,
       CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END
           AS generated_expr,
       a.attgenerated::text AS generated,
       a.attidentity::text AS identity,
       -- A collation is written out only when it differs from the type's own default.
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
       END AS collation,
       a.attislocal AS is_local,
       a.attcompression::text AS compression,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment,
       -- Position in the primary key (1-based), NULL outside it: the grid edits rows by it.
       (SELECT pg_catalog.array_position(pk.conkey, a.attnum)
          FROM pg_catalog.pg_constraint pk
         WHERE pk.conrelid = a.attrelid AND pk.contype = 'p') AS pk_position
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

-- name: explorer_constraints
-- Constraints of one relation (PK, FK, unique, check, exclusion) with their definitions.
SELECT co.conname AS name, pg_catalog.quote_ident(co.conname) AS quoted,
       co.contype::text AS type,
       pg_catalog.pg_get_constraintdef(co.oid) AS definition,
       co.conislocal AS is_local,
       co.convalidated AS validated,
       CASE WHEN co.confrelid <> 0 THEN co.confrelid::pg_catalog.regclass::text END AS references,
       pg_catalog.obj_description(co.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint co
WHERE co.conrelid = %(oid)s AND co.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY CASE co.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3
         ELSE 4 END, co.conname

-- name: explorer_indexes
-- Indexes of one relation: definition, size, scans, validity, and whether a constraint owns it.
SELECT ic.relname AS name,
       pg_catalog.quote_ident(icn.nspname) || '.' || pg_catalog.quote_ident(ic.relname) AS quoted,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       pg_catalog.pg_relation_size(x.indexrelid) AS bytes,
       coalesce(s.idx_scan, 0) AS scans,
       pg_catalog.quote_ident(ic.relname) AS bare,
       x.indisvalid AS valid,
       x.indisreplident AS is_replica_identity,
       x.indisprimary AS is_primary,
       x.indisunique AS is_unique,
       co.conname AS constraint_name,
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits ih WHERE ih.inhrelid = x.indexrelid)
           AS inherited,
       pg_catalog.obj_description(x.indexrelid, 'pg_class') AS comment
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
JOIN pg_catalog.pg_namespace icn ON icn.oid = ic.relnamespace
LEFT JOIN pg_catalog.pg_stat_all_indexes s ON s.indexrelid = x.indexrelid
LEFT JOIN pg_catalog.pg_constraint co
       ON co.conindid = x.indexrelid AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x')
WHERE x.indrelid = %(oid)s
ORDER BY ic.relname

-- name: explorer_triggers
-- User triggers of one relation (internal and partition-cloned triggers left out).
SELECT tg.tgname AS name, pg_catalog.quote_ident(tg.tgname) AS quoted,
       pg_catalog.pg_get_triggerdef(tg.oid) AS definition,
       tg.tgenabled::text AS enabled,
       tg.tgparentid <> 0 AS inherited
FROM pg_catalog.pg_trigger tg
WHERE tg.tgrelid = %(oid)s AND NOT tg.tgisinternal
ORDER BY tg.tgname

-- name: explorer_policies
-- Row level security policies of one relation.
SELECT pol.polname AS name, pg_catalog.quote_ident(pol.polname) AS quoted,
       pol.polpermissive AS permissive,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       CASE WHEN pol.polroles = '{0}' THEN ARRAY['public']
            ELSE ARRAY(SELECT pg_catalog.quote_ident(r.rolname) FROM pg_catalog.pg_roles r
                       WHERE r.oid = ANY (pol.polroles) ORDER BY r.rolname) END AS roles,
       pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
       pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = %(oid)s
ORDER BY pol.polname

-- name: explorer_grants
-- Table privileges of one relation, one row per grantee and privilege (owner's implicit ones too).
SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC'
            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END AS grantee,
       pg_catalog.pg_get_userbyid(g.grantor) AS grantor,
       g.privilege_type AS privilege,
       g.is_grantable AS grantable
FROM pg_catalog.pg_class c
CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) g
WHERE c.oid = %(oid)s AND g.grantee <> c.relowner
ORDER BY 1, 3

-- name: explorer_owned_sequences
-- Sequences owned by a column through SERIAL (not identity), with what CREATE SEQUENCE needs.
SELECT pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(sc.relname) AS name,
       a.attname AS column_name, pg_catalog.quote_ident(a.attname) AS column_quoted,
       pg_catalog.format_type(sq.seqtypid, NULL) AS data_type,
       sq.seqstart AS start, sq.seqincrement AS increment, sq.seqmin AS min_value,
       sq.seqmax AS max_value, sq.seqcache AS cache, sq.seqcycle AS cycle
FROM pg_catalog.pg_depend dp
JOIN pg_catalog.pg_class sc ON sc.oid = dp.objid AND sc.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = sc.oid
JOIN pg_catalog.pg_attribute a ON a.attrelid = dp.refobjid AND a.attnum = dp.refobjsubid
WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND dp.refobjid = %(oid)s AND dp.deptype = 'a'
ORDER BY a.attnum

-- name: explorer_fk_neighbours
-- Foreign keys from and to one relation (its neighbourhood), with their column lists.
SELECT co.conname AS name,
       co.conrelid::pg_catalog.regclass::text AS from_table,
       co.confrelid::pg_catalog.regclass::text AS to_table,
       ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(co.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.n
             ORDER BY k.i) AS from_columns,
       ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(co.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.n
             ORDER BY k.i) AS to_columns
FROM pg_catalog.pg_constraint co
WHERE co.contype = 'f' AND (co.conrelid = %(oid)s OR co.confrelid = %(oid)s)
  AND co.conparentid = 0
ORDER BY 2, 3, 1
