-- Tables without a primary key: rows cannot be addressed reliably, logical replication of
-- UPDATE/DELETE fails, and duplicates go unnoticed.
SELECT 'no_primary_key' AS name,
       'Table without a primary key' AS title,
       'WARN' AS level,
       'integrity' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('%I.%I has no primary key', n.nspname, c.relname) AS detail,
       pg_catalog.format('ALTER TABLE %I.%I ADD PRIMARY KEY (...);', n.nspname, c.relname)
           AS remediation,
       pg_catalog.format('no_primary_key:%s.%s', n.nspname, c.relname) AS cache_key
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                  WHERE con.conrelid = c.oid AND con.contype = 'p')
ORDER BY object
