-- Functions without a fixed search_path. For SECURITY DEFINER functions this is an ERROR: a
-- caller can put their own schema first and have the function run their objects with its
-- owner's rights. For ordinary functions it is advice (INFO): the caller only affects their own
-- call, but name resolution can still surprise (splinter's function_search_path_mutable).
SELECT 'function_search_path_mutable' AS name,
       'Function with a mutable search_path' AS title,
       CASE WHEN f.prosecdef THEN 'ERROR' ELSE 'INFO' END AS level,
       'security' AS category,
       pg_catalog.format('%I.%I(%s)', n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid)) AS object,
       pg_catalog.format('%s function %I.%I has no SET search_path',
           CASE WHEN f.prosecdef THEN 'SECURITY DEFINER' ELSE 'invoker' END, n.nspname,
           f.proname) AS detail,
       pg_catalog.format('ALTER FUNCTION %I.%I(%s) SET search_path = pg_catalog, %I;',
           n.nspname, f.proname, pg_catalog.pg_get_function_identity_arguments(f.oid), n.nspname)
           AS remediation,
       pg_catalog.format('function_search_path_mutable:%s.%s(%s)', n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid)) AS cache_key
FROM pg_catalog.pg_proc f
JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
WHERE f.prokind IN ('f', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM unnest(f.proconfig) cfg WHERE cfg LIKE 'search\_path=%')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = f.oid
                    AND d.deptype = 'e')
ORDER BY object
