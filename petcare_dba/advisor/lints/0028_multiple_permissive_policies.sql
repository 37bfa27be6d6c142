-- Several permissive policies for the same role and command on one table: PostgreSQL evaluates
-- every one of them for each row (they are OR-ed), which is slower than one combined policy
-- (splinter's multiple_permissive_policies).
WITH expanded AS (
    SELECT pol.polrelid, pol.polname, r AS role_oid, cmd
    FROM pg_catalog.pg_policy pol
    CROSS JOIN LATERAL unnest(pol.polroles) r
    CROSS JOIN LATERAL unnest(CASE pol.polcmd WHEN '*' THEN ARRAY['r', 'a', 'w', 'd']
                                              ELSE ARRAY[pol.polcmd::text] END) cmd
    WHERE pol.polpermissive)
SELECT 'multiple_permissive_policies' AS name,
       'Multiple permissive policies' AS title,
       'WARN' AS level,
       'performance' AS category,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS object,
       pg_catalog.format('role %s has %s permissive %s policies: %s',
           CASE WHEN e.role_oid = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(
               pg_catalog.pg_get_userbyid(e.role_oid)) END, count(*),
           CASE e.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                      ELSE 'DELETE' END,
           string_agg(pg_catalog.quote_ident(e.polname), ', ' ORDER BY e.polname)) AS detail,
       '-- combine them into one policy per role and command (OR the conditions together)'
           AS remediation,
       pg_catalog.format('multiple_permissive_policies:%s.%s:%s:%s', n.nspname, c.relname,
           CASE WHEN e.role_oid = 0 THEN 'public'
                ELSE pg_catalog.pg_get_userbyid(e.role_oid) END, e.cmd) AS cache_key
FROM expanded e
JOIN pg_catalog.pg_class c ON c.oid = e.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
GROUP BY n.nspname, c.relname, e.role_oid, e.cmd
HAVING count(*) > 1
ORDER BY object, cache_key
