-- Tables whose oldest unfrozen transaction id is older than advisor_xid_age (ERROR past
-- advisor_xid_age_error): at 2^31 PostgreSQL stops accepting writes to prevent wraparound.
-- Autovacuum should freeze them long before; an old age means it is blocked or too slow.
WITH p AS (
    SELECT %(advisor_xid_age)s::bigint AS max_age,
           %(advisor_xid_age_error)s::bigint AS error_age)
SELECT 'xid_wraparound' AS name,
       'Transaction ID wraparound risk' AS title,
       CASE WHEN pg_catalog.age(c.relfrozenxid) > p.error_age THEN 'ERROR' ELSE 'WARN' END
           AS level,
       'availability' AS category,
       pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS object,
       pg_catalog.format('relfrozenxid age is %%s (%%s%%%% of the 2^31 horizon)',
           pg_catalog.age(c.relfrozenxid),
           round(100.0 * pg_catalog.age(c.relfrozenxid) / 2147483648, 1)) AS detail,
       pg_catalog.format('VACUUM (FREEZE, VERBOSE) %%I.%%I;', n.nspname, c.relname) AS remediation,
       pg_catalog.format('xid_wraparound:%%s.%%s', n.nspname, c.relname) AS cache_key
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, p
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%%'
  AND pg_catalog.age(c.relfrozenxid) > p.max_age
ORDER BY pg_catalog.age(c.relfrozenxid) DESC, object
