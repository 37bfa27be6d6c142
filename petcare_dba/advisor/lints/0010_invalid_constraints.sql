-- CHECK and FOREIGN KEY constraints added NOT VALID and never validated: existing rows were
-- never checked, so the constraint does not guarantee what it says (the planner cannot rely on
-- it either).
SELECT 'invalid_constraints' AS name,
       'Constraint not validated' AS title,
       'WARN' AS level,
       'integrity' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('constraint %I is NOT VALID: %s', con.conname,
           pg_catalog.pg_get_constraintdef(con.oid)) AS detail,
       pg_catalog.format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I;', n.nspname, c.relname,
           con.conname) AS remediation,
       pg_catalog.format('invalid_constraints:%s.%s.%s', n.nspname, c.relname, con.conname)
           AS cache_key
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT con.convalidated AND con.contype IN ('c', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY object, con.conname
