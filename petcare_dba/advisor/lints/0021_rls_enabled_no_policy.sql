-- Tables with row level security enabled but no policy: every non-owner sees no rows and can
-- write none, which is rarely what was meant (splinter's rls_enabled_no_policy).
SELECT 'rls_enabled_no_policy' AS name,
       'RLS enabled without a policy' AS title,
       'WARN' AS level,
       'security' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('row level security is enabled on %I.%I but it has no policy',
           n.nspname, c.relname) AS detail,
       pg_catalog.format(E'-- say who may see which rows, for example:\n'
           'CREATE POLICY %I ON %I.%I FOR SELECT TO ... USING (...);',
           c.relname || '_select', n.nspname, c.relname) AS remediation,
       pg_catalog.format('rls_enabled_no_policy:%s.%s', n.nspname, c.relname) AS cache_key
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy pol WHERE pol.polrelid = c.oid)
ORDER BY object
