-- A backup or restore whose process dies (kill -9, a crashed server, a closed laptop) used to stay
-- 'running' for ever. While one runs, its process now beats heartbeat_at every 30 seconds; the
-- in-app reconcile job (services.backups_reconcile, from the collector) marks a 'running' row
-- whose heartbeat is older than 5 minutes 'failed' with the reason and removes its partial files.
ALTER TABLE petcare.table_backups ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE petcare.table_restores ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX table_backups_running_idx ON petcare.table_backups (heartbeat_at)
    WHERE status = 'running';
CREATE INDEX table_restores_running_idx ON petcare.table_restores (heartbeat_at)
    WHERE status = 'running';
