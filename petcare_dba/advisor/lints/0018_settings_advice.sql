-- Server settings that risk data loss or hurt operations (in the spirit of PgHero's settings
-- check): durability switched off is an ERROR, autovacuum off a WARN, and missing guard rails
-- (no idle-transaction timeout, slow statements not logged) are advice.
SELECT 'settings_advice' AS name,
       'Setting advice' AS title,
       c.level,
       'configuration' AS category,
       c.setting AS object,
       pg_catalog.format('%s = %s: %s', c.setting, pg_catalog.current_setting(c.setting), c.why)
           AS detail,
       c.fix AS remediation,
       pg_catalog.format('settings_advice:%s', c.setting) AS cache_key
FROM (VALUES
    ('fsync', pg_catalog.current_setting('fsync') = 'off', 'ERROR',
     'a crash or power loss can corrupt the whole cluster',
     E'ALTER SYSTEM SET fsync = on;\nSELECT pg_catalog.pg_reload_conf();'),
    ('full_page_writes', pg_catalog.current_setting('full_page_writes') = 'off', 'ERROR',
     'torn pages after a crash cannot be repaired from WAL',
     E'ALTER SYSTEM SET full_page_writes = on;\nSELECT pg_catalog.pg_reload_conf();'),
    ('autovacuum', pg_catalog.current_setting('autovacuum') = 'off', 'WARN',
     'dead rows pile up and transaction ids are never frozen (wraparound)',
     E'ALTER SYSTEM SET autovacuum = on;\nSELECT pg_catalog.pg_reload_conf();'),
    ('idle_in_transaction_session_timeout',
     pg_catalog.current_setting('idle_in_transaction_session_timeout') = '0', 'INFO',
     'a forgotten open transaction holds locks and blocks vacuum forever',
     pg_catalog.format('ALTER DATABASE %I SET idle_in_transaction_session_timeout = ''5min'';',
         pg_catalog.current_database())),
    ('log_min_duration_statement',
     pg_catalog.current_setting('log_min_duration_statement') = '-1', 'INFO',
     'slow statements leave no trace in the server log',
     pg_catalog.format('ALTER DATABASE %I SET log_min_duration_statement = ''1s'';',
         pg_catalog.current_database()))
) AS c(setting, bad, level, why, fix)
WHERE c.bad
ORDER BY c.setting
