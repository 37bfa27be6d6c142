-- Write policies whose USING or WITH CHECK is literally true: anyone the policy applies to may
-- insert, change or delete every row (splinter's rls_policy_always_true). A policy granted only
-- to the table's owner is skipped: it gives the owner nothing the owner lacks without FORCE.
SELECT 'policy_always_true' AS name,
       'Always-true write policy' AS title,
       'WARN' AS level,
       'security' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('policy %I (%s, to %s) allows every row: USING %s, WITH CHECK %s',
           pol.polname,
           CASE pol.polcmd WHEN '*' THEN 'ALL' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                           WHEN 'd' THEN 'DELETE' END,
           (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(
                                  (SELECT a.rolname FROM pg_catalog.pg_roles a WHERE a.oid = r))
                              END, ', ' ORDER BY r) FROM unnest(pol.polroles) r),
           coalesce(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '-'),
           coalesce(pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), '-')) AS detail,
       pg_catalog.format(E'-- restrict the policy to the rows its users own, for example:\n'
           'ALTER POLICY %I ON %I.%I USING (owner_id = ...) WITH CHECK (owner_id = ...);',
           pol.polname, n.nspname, c.relname) AS remediation,
       pg_catalog.format('policy_always_true:%s.%s.%s', n.nspname, c.relname, pol.polname)
           AS cache_key
FROM pg_catalog.pg_policy pol
JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE pol.polcmd IN ('*', 'a', 'w', 'd')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) = 'true'
       OR pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) = 'true')
  AND pol.polroles <> ARRAY[c.relowner]
ORDER BY object, pol.polname
