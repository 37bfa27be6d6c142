-- Issue 20, scheduled work: table backups (with retention), project script runs and advisor
-- runs on a cron expression in a time zone, run by the worker's `schedules` job.
-- 1. schedules: one row per schedule, owned by the user who made it. next_due_at is computed by
--    the app (croniter) and moved on in the transaction that claims a run, which locks the row
--    FOR UPDATE SKIP LOCKED; schedule_runs' UNIQUE (schedule_id, due_at) is the second guard, so
--    with several workers a tick runs exactly once. Catch-up: a schedule found overdue after
--    downtime runs once for the missed window (the run records how many ticks it covered).
-- 2. schedule_runs: the history of each schedule (bounded by schedule_runs_keep per schedule),
--    written by the job as the system admin; results are small JSON summaries.
-- 3. Two alert rules: a failed scheduled run, and an advisor run with a new ERROR finding.
-- Visibility: owners see theirs, admins all, and a project-run schedule is seen by the
-- project's members (the rules of 0002/0005: petcare.my_project_ids()).

CREATE TABLE petcare.schedules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
    kind text NOT NULL CHECK (kind IN ('backup', 'script', 'advisor')),
    cron text NOT NULL CHECK (length(cron) BETWEEN 1 AND 120 AND cron !~ '[[:cntrl:]]'),
    tz text NOT NULL DEFAULT 'UTC' CHECK (length(tz) BETWEEN 1 AND 64),
    owner_id bigint NOT NULL REFERENCES petcare.users (id) ON DELETE CASCADE,
    connection_id bigint NOT NULL REFERENCES petcare.connections (id) ON DELETE CASCADE,
    schema_name text CHECK (length(schema_name) BETWEEN 1 AND 63),
    table_name text CHECK (length(table_name) BETWEEN 1 AND 63),
    keep_count integer CHECK (keep_count BETWEEN 1 AND 1000),
    keep_days integer CHECK (keep_days BETWEEN 1 AND 3650),
    project_id bigint REFERENCES petcare.projetos_analytics (id) ON DELETE CASCADE,
    script_id bigint REFERENCES petcare.scripts_projetos (id) ON DELETE CASCADE,
    script_version integer CHECK (script_version >= 1),
    confirmed boolean NOT NULL DEFAULT false,
    paused boolean NOT NULL DEFAULT false,
    next_due_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE kind
               WHEN 'backup' THEN schema_name IS NOT NULL AND table_name IS NOT NULL
                                  AND project_id IS NULL
               WHEN 'script' THEN project_id IS NOT NULL AND script_id IS NOT NULL
               ELSE project_id IS NULL AND schema_name IS NULL END)
);
CREATE UNIQUE INDEX schedules_owner_name_key ON petcare.schedules (owner_id, lower(name));
CREATE INDEX schedules_due_idx ON petcare.schedules (next_due_at) WHERE NOT paused;
CREATE INDEX schedules_connection_idx ON petcare.schedules (connection_id);
CREATE INDEX schedules_project_idx ON petcare.schedules (project_id);
CREATE INDEX schedules_script_idx ON petcare.schedules (script_id);

CREATE TABLE petcare.schedule_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id bigint NOT NULL REFERENCES petcare.schedules (id) ON DELETE CASCADE,
    due_at timestamptz NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('cron', 'catch_up', 'manual')),
    missed integer NOT NULL DEFAULT 0 CHECK (missed >= 0),
    instance text CHECK (length(instance) <= 200),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
    error text CHECK (length(error) <= 2000),
    result jsonb CHECK (pg_column_size(result) <= 65536),
    UNIQUE (schedule_id, due_at)
);
CREATE INDEX schedule_runs_schedule_idx ON petcare.schedule_runs (schedule_id, id DESC);

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.schedules, petcare.schedule_runs TO petcare_app;

ALTER TABLE petcare.schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY schedules_select ON petcare.schedules FOR SELECT TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin())
           OR (project_id IS NOT NULL AND project_id IN (SELECT petcare.my_project_ids())));
CREATE POLICY schedules_insert ON petcare.schedules FOR INSERT TO petcare_app
    WITH CHECK (owner_id = (SELECT petcare.current_user_id()));
CREATE POLICY schedules_update ON petcare.schedules FOR UPDATE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()))
    WITH CHECK (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));
CREATE POLICY schedules_delete ON petcare.schedules FOR DELETE TO petcare_app
    USING (owner_id = (SELECT petcare.current_user_id()) OR (SELECT petcare.is_admin()));

-- A run is seen by whoever sees its schedule; only the job (the system admin) writes runs.
ALTER TABLE petcare.schedule_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.schedule_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY schedule_runs_select ON petcare.schedule_runs FOR SELECT TO petcare_app
    USING (schedule_id IN (SELECT s.id FROM petcare.schedules s));
CREATE POLICY schedule_runs_insert ON petcare.schedule_runs FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY schedule_runs_update ON petcare.schedule_runs FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY schedule_runs_delete ON petcare.schedule_runs FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.alert_rules NO FORCE ROW LEVEL SECURITY;
INSERT INTO petcare.alert_rules (name, metric, comparator, threshold, duration_s, severity,
                                 scope, description) VALUES
    ('schedule-failed', 'schedule_failed', '>', 0, 0, 'critical', 'connection',
     'A scheduled backup, script or advisor run on this connection failed (see Schedules).'),
    ('advisor-new-error', 'advisor_new_errors', '>', 0, 0, 'warning', 'connection',
     'A scheduled advisor run found an ERROR-level finding the previous run did not have.');
ALTER TABLE petcare.alert_rules FORCE ROW LEVEL SECURITY;
