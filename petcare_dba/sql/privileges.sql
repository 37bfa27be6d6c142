-- name: role_privileges
-- What the login role of a target connection can do beyond reading (issue 12, reliability Q3).
-- Membership is checked with pg_has_role(..., 'MEMBER'): direct, inherited through any chain of
-- groups, or reachable with SET ROLE (a NOINHERIT member can still SET ROLE pg_signal_backend).
-- Predefined roles are looked up with to_regrole so the query runs on PostgreSQL 13 to 18.
WITH me AS (
    SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
           r.rolreplication
    FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
), predefined (name, kind) AS (
    VALUES ('pg_signal_backend', 'signal'),
           ('pg_read_server_files', 'files'),
           ('pg_write_server_files', 'files'),
           ('pg_execute_server_program', 'files'),
           ('pg_write_all_data', 'writes'),
           ('pg_maintain', 'writes'),
           ('pg_checkpoint', 'server'),
           ('pg_create_subscription', 'server'),
           ('pg_use_reserved_connections', 'server'),
           ('pg_monitor', 'stats'),
           ('pg_read_all_stats', 'stats'),
           ('pg_read_all_settings', 'stats'),
           ('pg_stat_scan_tables', 'stats')
), memberships AS (
    SELECT p.name, p.kind
    FROM predefined p, me
    WHERE pg_catalog.to_regrole(p.name) IS NOT NULL
      AND pg_catalog.pg_has_role(me.oid, pg_catalog.to_regrole(p.name), 'MEMBER')
), writable AS (
    SELECT n.nspname, c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND (pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')
           OR pg_catalog.has_any_column_privilege(c.oid, 'INSERT, UPDATE'))
), file_functions AS (
    SELECT f.signature
    FROM (VALUES ('pg_catalog.pg_read_file(text)'), ('pg_catalog.pg_read_binary_file(text)'),
                 ('pg_catalog.pg_ls_dir(text)'), ('pg_catalog.pg_stat_file(text)'),
                 ('pg_catalog.lo_import(text)'), ('pg_catalog.lo_export(oid, text)'),
                 ('pg_catalog.pg_file_write(text, text, boolean)')) AS f (signature)
    WHERE pg_catalog.to_regprocedure(f.signature) IS NOT NULL
      AND pg_catalog.has_function_privilege(pg_catalog.to_regprocedure(f.signature), 'EXECUTE')
)
SELECT me.rolname AS login_role,
       me.rolsuper AS superuser,
       me.rolbypassrls AS bypassrls,
       me.rolcreaterole AS createrole,
       me.rolcreatedb AS createdb,
       me.rolreplication AS replication,
       ARRAY(SELECT m.name FROM memberships m ORDER BY m.name) AS member_of,
       ARRAY(SELECT m.name FROM memberships m WHERE m.kind <> 'stats' ORDER BY m.name)
           AS dangerous_roles,
       ARRAY(SELECT m.name FROM memberships m WHERE m.kind = 'stats' ORDER BY m.name)
           AS stats_roles,
       (SELECT count(*) FROM writable)::int AS writable_tables,
       ARRAY(SELECT pg_catalog.quote_ident(w.nspname) || '.' || pg_catalog.quote_ident(w.relname)
             FROM writable w ORDER BY 1 LIMIT 5) AS writable_sample,
       ARRAY(SELECT ff.signature FROM file_functions ff ORDER BY 1) AS file_functions,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num
FROM me
