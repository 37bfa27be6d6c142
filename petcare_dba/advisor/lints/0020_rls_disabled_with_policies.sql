-- Tables with row level security policies while RLS itself is disabled: the policies do
-- nothing and every row is visible to anyone with table privileges (splinter's
-- policy_exists_rls_disabled).
SELECT 'rls_disabled_with_policies' AS name,
       'Policies exist but RLS is disabled' AS title,
       'ERROR' AS level,
       'security' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('%s polic%s defined (%s) but row level security is disabled',
           count(*), CASE WHEN count(*) = 1 THEN 'y is' ELSE 'ies are' END,
           string_agg(pg_catalog.quote_ident(pol.polname), ', ' ORDER BY pol.polname)) AS detail,
       pg_catalog.format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY;', n.nspname, c.relname)
           AS remediation,
       pg_catalog.format('rls_disabled_with_policies:%s.%s', n.nspname, c.relname) AS cache_key
FROM pg_catalog.pg_policy pol
JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT c.relrowsecurity AND n.nspname NOT IN ('pg_catalog', 'information_schema')
GROUP BY n.nspname, c.relname
ORDER BY object
