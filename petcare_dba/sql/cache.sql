-- name: cache_notify
-- Tell every instance listening on the channel to drop cache entries (the payload names what, never data).
SELECT pg_notify(%(channel)s, %(payload)s)

-- name: cache_privilege_fingerprint
-- A digest of everything that decides which rows the current role may read: who it is, its attributes and memberships, every relation, column, schema and function grant, and every row-security policy.
SELECT md5(concat_ws('|',
    current_user::text, session_user::text, pg_catalog.current_database()::text,
    (SELECT concat_ws(',', r.rolsuper, r.rolbypassrls, r.rolinherit)
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),
    (SELECT string_agg(r.oid::text, ',' ORDER BY r.oid)
       FROM pg_catalog.pg_roles r WHERE pg_catalog.pg_has_role(current_user, r.oid, 'USAGE')),
    (SELECT md5(string_agg(concat_ws(':', c.oid, c.relowner, c.relkind, c.relacl,
                                     c.relrowsecurity, c.relforcerowsecurity), ',' ORDER BY c.oid))
       FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')),
    (SELECT md5(string_agg(concat_ws(':', a.attrelid, a.attnum, a.attacl), ','
                           ORDER BY a.attrelid, a.attnum))
       FROM pg_catalog.pg_attribute a WHERE a.attacl IS NOT NULL),
    (SELECT md5(string_agg(concat_ws(':', n.oid, n.nspowner, n.nspacl), ',' ORDER BY n.oid))
       FROM pg_catalog.pg_namespace n),
    (SELECT md5(string_agg(concat_ws(':', p.oid, p.proacl, p.prosecdef), ',' ORDER BY p.oid))
       FROM pg_catalog.pg_proc p WHERE p.proacl IS NOT NULL OR p.prosecdef),
    (SELECT md5(string_agg(concat_ws(':', p.oid, p.polrelid, p.polcmd, p.polpermissive, p.polroles,
                                     pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                                     pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)),
                           ',' ORDER BY p.oid))
       FROM pg_catalog.pg_policy p)
)) AS fingerprint

-- name: slot_try_lock
-- Take one per-user connection slot for this instance's session, if no session holds it.
SELECT pg_try_advisory_lock(%(key)s) AS taken

-- name: slot_unlock
-- Give back a per-user connection slot this session holds.
SELECT pg_advisory_unlock(%(key)s) AS released
