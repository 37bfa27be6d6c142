-- Replication slots with no consumer attached: the server keeps every WAL segment (and, for
-- logical slots, old catalog rows) the slot still needs, until the disk fills up.
SELECT 'inactive_replication_slots' AS name,
       'Inactive replication slot' AS title,
       'WARN' AS level,
       'availability' AS category,
       pg_catalog.format('slot %I', s.slot_name) AS object,
       pg_catalog.format('%s slot %I%s is inactive and retains %s of WAL', s.slot_type,
           s.slot_name, CASE WHEN s.database IS NOT NULL
                             THEN pg_catalog.format(' (database %I)', s.database) ELSE '' END,
           coalesce(pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff(
               CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                    ELSE pg_catalog.pg_current_wal_lsn() END, s.restart_lsn)), 'no')) AS detail,
       pg_catalog.format('SELECT pg_catalog.pg_drop_replication_slot(%L);', s.slot_name)
           AS remediation,
       pg_catalog.format('inactive_replication_slots:%s', s.slot_name) AS cache_key
FROM pg_catalog.pg_replication_slots s
WHERE NOT s.active
ORDER BY object
