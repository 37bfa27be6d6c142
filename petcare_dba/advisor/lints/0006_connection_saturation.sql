-- Connections close to a limit: the server's max_connections (minus the superuser reserve) or
-- this database's CONNECTION LIMIT, at advisor_connection_usage_pct percent or more.
-- New sessions are refused at the limit; a pooler (PgBouncer) is the usual cure.
WITH p AS (SELECT %(advisor_connection_usage_pct)s::numeric AS pct),
usage AS (
    SELECT 'server' AS scope,
           (SELECT count(*) FROM pg_catalog.pg_stat_activity a
             WHERE a.backend_type = 'client backend') AS used,
           pg_catalog.current_setting('max_connections')::int
             - pg_catalog.current_setting('superuser_reserved_connections')::int AS allowed
    UNION ALL
    SELECT pg_catalog.format('database %%I', d.datname),
           (SELECT count(*) FROM pg_catalog.pg_stat_activity a
             WHERE a.backend_type = 'client backend' AND a.datname = d.datname),
           d.datconnlimit
    FROM pg_catalog.pg_database d
    WHERE d.datname = pg_catalog.current_database() AND d.datconnlimit > 0)
SELECT 'connection_saturation' AS name,
       'Connections near the limit' AS title,
       CASE WHEN u.used >= u.allowed THEN 'ERROR' ELSE 'WARN' END AS level,
       'availability' AS category,
       u.scope AS object,
       pg_catalog.format('%%s of %%s allowed connections in use (%%s%%%%)', u.used, u.allowed,
           round(100.0 * u.used / u.allowed)) AS detail,
       CASE WHEN u.scope = 'server'
            THEN '-- put a connection pooler (PgBouncer) in front, or raise max_connections '
                 '(restart required): ALTER SYSTEM SET max_connections = ...;'
            ELSE pg_catalog.format('ALTER DATABASE %%I CONNECTION LIMIT %%s;',
                     pg_catalog.current_database(), u.allowed * 2) END AS remediation,
       pg_catalog.format('connection_saturation:%%s', u.scope) AS cache_key
FROM usage u, p
WHERE u.allowed > 0 AND 100.0 * u.used / u.allowed >= p.pct
ORDER BY object
