-- Extensions installed in the public schema: their functions and operators mix with application
-- objects, can be shadowed or shadow others, and (on older servers) anyone may create objects
-- there (splinter's extension_in_public).
SELECT 'extension_in_public' AS name,
       'Extension in the public schema' AS title,
       'WARN' AS level,
       'security' AS category,
       pg_catalog.format('extension %I', e.extname) AS object,
       pg_catalog.format('extension %I %s is installed in schema public%s', e.extname,
           e.extversion, CASE WHEN e.extrelocatable THEN ''
                              ELSE ' and is not relocatable (drop and re-create it)' END)
           AS detail,
       CASE WHEN e.extrelocatable
            THEN pg_catalog.format(E'CREATE SCHEMA IF NOT EXISTS extensions;\n'
                     'ALTER EXTENSION %I SET SCHEMA extensions;', e.extname)
            ELSE pg_catalog.format(E'CREATE SCHEMA IF NOT EXISTS extensions;\n'
                     'DROP EXTENSION %I;\nCREATE EXTENSION %I SCHEMA extensions;',
                     e.extname, e.extname) END AS remediation,
       pg_catalog.format('extension_in_public:%s', e.extname) AS cache_key
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE n.nspname = 'public'
ORDER BY object
