-- Views over tables with row level security that run with their owner's rights (no
-- security_invoker): they bypass the policies the caller would be subject to (splinter's
-- security_definer_view; security_invoker exists since PostgreSQL 15).
SELECT 'security_definer_view' AS name,
       'View bypasses row level security' AS title,
       'ERROR' AS level,
       'security' AS category,
       pg_catalog.format('%I.%I', n.nspname, v.relname) AS object,
       pg_catalog.format('view %I.%I reads %s with the rights of its owner %I, so their '
           'policies are not applied to the caller', n.nspname, v.relname,
           string_agg(DISTINCT pg_catalog.format('%I.%I', tn.nspname, t.relname), ', '),
           pg_catalog.pg_get_userbyid(v.relowner)) AS detail,
       pg_catalog.format('ALTER VIEW %I.%I SET (security_invoker = on);', n.nspname, v.relname)
           AS remediation,
       pg_catalog.format('security_definer_view:%s.%s', n.nspname, v.relname) AS cache_key
FROM pg_catalog.pg_class v
JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass
     AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relrowsecurity
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
WHERE v.relkind = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT coalesce(v.reloptions @> ARRAY['security_invoker=on']
                   OR v.reloptions @> ARRAY['security_invoker=true']
                   OR v.reloptions @> ARRAY['security_invoker=1'], false)
GROUP BY n.nspname, v.relname, v.relowner
ORDER BY object
