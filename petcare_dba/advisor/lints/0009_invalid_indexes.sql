-- Indexes left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY: never used
-- by queries, yet maintained on every write (and a unique one still rejects duplicates).
SELECT 'invalid_indexes' AS name,
       'Invalid index' AS title,
       'WARN' AS level,
       'integrity' AS category,
       pg_catalog.format('%I.%I', n.nspname, ic.relname) AS object,
       pg_catalog.format('index %I on %I.%I is invalid: %s', ic.relname, n.nspname, t.relname,
           pg_catalog.pg_get_indexdef(i.indexrelid)) AS detail,
       pg_catalog.format(E'DROP INDEX CONCURRENTLY %I.%I;\n%s;', n.nspname, ic.relname,
           regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX',
                          'CREATE \1INDEX CONCURRENTLY')) AS remediation,
       pg_catalog.format('invalid_indexes:%s.%s', n.nspname, ic.relname) AS cache_key
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY object
