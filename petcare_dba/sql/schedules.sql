-- Schedules and their runs (migration 0026).

-- name: schedule_insert
-- A new schedule of the current user; its id.
INSERT INTO petcare.schedules (name, kind, cron, tz, owner_id, connection_id, schema_name,
                               table_name, keep_count, keep_days, project_id, script_id,
                               script_version, confirmed, next_due_at)
VALUES (%(name)s, %(kind)s, %(cron)s, %(tz)s, petcare.current_user_id(), %(connection_id)s,
        %(schema)s, %(table)s, %(keep_count)s, %(keep_days)s, %(project_id)s, %(script_id)s,
        %(script_version)s, %(confirmed)s, %(next_due_at)s)
RETURNING id

-- name: schedule_list
-- The schedules the current user may see, with their owner, connection and latest run.
SELECT s.id, s.name, s.kind, s.cron, s.tz, u.username AS owner, c.name AS connection,
       s.schema_name, s.table_name, s.keep_count, s.keep_days, s.project_id,
       p.name AS project, sp.name AS script, s.script_version, s.confirmed, s.paused,
       s.next_due_at, s.created_at, r.status AS last_status, r.started_at AS last_run_at,
       r.error AS last_error
FROM petcare.schedules s
JOIN petcare.users u ON u.id = s.owner_id
JOIN petcare.connections c ON c.id = s.connection_id
LEFT JOIN petcare.projetos_analytics p ON p.id = s.project_id
LEFT JOIN petcare.scripts_projetos sp ON sp.id = s.script_id
LEFT JOIN LATERAL (
    SELECT status, started_at, error FROM petcare.schedule_runs
    WHERE schedule_id = s.id ORDER BY id DESC LIMIT 1) r ON true
WHERE (%(id)s::bigint IS NULL OR s.id = %(id)s)
ORDER BY s.name, s.id
LIMIT 1000

-- name: schedule_set_paused
-- Pause or resume a schedule (resuming sets the next due time); the row when allowed.
UPDATE petcare.schedules
SET paused = %(paused)s, next_due_at = COALESCE(%(next_due_at)s, next_due_at),
    updated_at = now()
WHERE id = %(id)s
RETURNING id, name

-- name: schedule_delete
-- Remove a schedule (its runs go with it); the row when allowed.
DELETE FROM petcare.schedules WHERE id = %(id)s RETURNING id, name

-- name: schedule_due_lock
-- Due, unpaused schedules, locked for this claim; another worker skips the locked ones.
SELECT s.id, s.cron, s.tz, s.next_due_at
FROM petcare.schedules s
WHERE NOT s.paused AND s.next_due_at <= now()
ORDER BY s.next_due_at, s.id
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED

-- name: schedule_advance
-- Move a claimed schedule's next due time on (in the claiming transaction).
UPDATE petcare.schedules SET next_due_at = %(next_due_at)s WHERE id = %(id)s

-- name: schedule_run_claim
-- Record a claimed run; nothing when this (schedule, due time) was already claimed.
INSERT INTO petcare.schedule_runs (schedule_id, due_at, trigger, missed, instance)
VALUES (%(id)s, %(due_at)s, %(trigger)s, %(missed)s, %(instance)s)
ON CONFLICT (schedule_id, due_at) DO NOTHING
RETURNING id

-- name: schedule_for_run
-- What a run needs: the schedule, its owner (role, disabled) and connection name.
SELECT s.id, s.name, s.kind, s.owner_id, u.username AS owner, u.role AS owner_role,
       u.disabled AS owner_disabled, s.connection_id, c.name AS connection, s.schema_name,
       s.table_name, s.keep_count, s.keep_days, s.project_id, s.script_id, sp.name AS script,
       s.script_version, s.confirmed
FROM petcare.schedules s
JOIN petcare.users u ON u.id = s.owner_id
JOIN petcare.connections c ON c.id = s.connection_id
LEFT JOIN petcare.scripts_projetos sp ON sp.id = s.script_id
WHERE s.id = %(id)s

-- name: schedule_run_finish
-- Record how a run ended.
UPDATE petcare.schedule_runs
SET finished_at = clock_timestamp(), status = %(status)s, error = left(%(error)s, 2000),
    result = %(result)s::jsonb
WHERE id = %(id)s

-- name: schedule_runs_trim
-- Keep only the newest `keep` runs of a schedule.
DELETE FROM petcare.schedule_runs
WHERE schedule_id = %(id)s
  AND id NOT IN (SELECT id FROM petcare.schedule_runs WHERE schedule_id = %(id)s
                 ORDER BY id DESC LIMIT %(keep)s)

-- name: schedule_runs_list
-- The runs of a schedule the current user may see, newest first.
SELECT r.id, r.schedule_id, r.due_at, r.trigger, r.missed, r.instance, r.started_at,
       r.finished_at, r.status, r.error, r.result
FROM petcare.schedule_runs r
WHERE r.schedule_id = %(id)s
ORDER BY r.id DESC
LIMIT %(limit)s

-- name: schedule_run_schedule
-- The schedule of a run.
SELECT schedule_id FROM petcare.schedule_runs WHERE id = %(id)s
