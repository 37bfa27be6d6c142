-- Foreign keys whose referencing columns are not the leading columns of any index: deletes and
-- updates on the referenced table scan the whole referencing table.
SELECT 'unindexed_foreign_keys' AS name,
       'Unindexed foreign key' AS title,
       'INFO' AS level,
       'performance' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('foreign key %I on (%s) has no covering index', con.conname,
           (SELECT string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord)
              FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum))
           AS detail,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %I.%I (%s);', n.nspname, c.relname,
           (SELECT string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord)
              FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum))
           AS remediation,
       pg_catalog.format('unindexed_foreign_keys:%s.%s.%s', n.nspname, c.relname, con.conname)
           AS cache_key
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_index i
      WHERE i.indrelid = con.conrelid
        AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey
        AND (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)
ORDER BY object, detail
