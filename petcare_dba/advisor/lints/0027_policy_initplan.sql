-- Policies that call current_setting() or a parameterless function without wrapping it in
-- (SELECT ...): PostgreSQL then evaluates it once per row instead of once per statement as an
-- InitPlan, which makes large scans slow (splinter's auth_rls_initplan).
SELECT 'policy_initplan' AS name,
       'Policy re-evaluates a function per row' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('policy %I calls %s per row; write (SELECT %s) instead', pol.polname,
           x.call, x.call) AS detail,
       pg_catalog.format('ALTER POLICY %I ON %I.%I ... ; -- wrap %s as (SELECT %s)',
           pol.polname, n.nspname, c.relname, x.call, x.call) AS remediation,
       pg_catalog.format('policy_initplan:%s.%s.%s', n.nspname, c.relname, pol.polname)
           AS cache_key
FROM pg_catalog.pg_policy pol
JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    -- drop the calls that are already wrapped, then look for the remaining ones
    SELECT (regexp_match(
               regexp_replace(
                   coalesce(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '') || ' ' ||
                   coalesce(pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), ''),
                   'SELECT [A-Za-z0-9_."]+\([^()]*\)', '', 'g'),
               '((?:[A-Za-z0-9_"]+\.)?current_setting\([^()]*\)|(?:[A-Za-z0-9_"]+\.)?[A-Za-z_][A-Za-z0-9_]*\(\))'
           ))[1] AS call) x
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND x.call IS NOT NULL AND x.call NOT IN ('now()', 'pg_catalog.now()')
ORDER BY object, pol.polname
