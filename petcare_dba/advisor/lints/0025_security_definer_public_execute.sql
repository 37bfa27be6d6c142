-- SECURITY DEFINER functions that PUBLIC may execute (the default for new functions): every
-- role, present and future, can run them with the owner's rights. Revoke and grant only to the
-- roles that need them.
SELECT 'security_definer_public_execute' AS name,
       'Definer function executable by PUBLIC' AS title,
       'WARN' AS level,
       'security' AS category,
       pg_catalog.format('%I.%I(%s)', n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid)) AS object,
       pg_catalog.format('SECURITY DEFINER function %I.%I (owner %I) is executable by PUBLIC',
           n.nspname, f.proname, pg_catalog.pg_get_userbyid(f.proowner)) AS detail,
       pg_catalog.format(E'REVOKE EXECUTE ON FUNCTION %I.%I(%s) FROM PUBLIC;\n'
           'GRANT EXECUTE ON FUNCTION %I.%I(%s) TO ...;', n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid), n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid)) AS remediation,
       pg_catalog.format('security_definer_public_execute:%s.%s(%s)', n.nspname, f.proname,
           pg_catalog.pg_get_function_identity_arguments(f.oid)) AS cache_key
FROM pg_catalog.pg_proc f
JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
WHERE f.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
  AND EXISTS (SELECT 1 FROM aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) acl
              WHERE acl.grantee = 0 AND acl.privilege_type = 'EXECUTE')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = f.oid
                    AND d.deptype = 'e')
ORDER BY object
