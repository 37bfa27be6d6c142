-- The background jobs (sampling, advisor, reconcile, audit-chain check, retention, and later
-- alert delivery and schedules) run in `petcare-dba worker` and in `petcare-dba up`; several of
-- those processes may share one store. Each job is leader-elected with a lease row rather than a
-- session advisory lock: a lease survives a transaction pooler (every statement may land on
-- another server session) and tells health who leads. The leader renews its lease every third of
-- jobs_lease_s; a dead leader's lease expires and another instance takes it. A run is claimed by
-- moving next_due_at one interval on in the same statement that checks the lease, so a job runs
-- once per interval however many instances try. Each run is recorded (start, end, ok or error,
-- which instance) for health and /metrics.
CREATE TABLE petcare.job_leases (
    job text PRIMARY KEY CHECK (job ~ '^[a-z][a-z0-9_]{0,62}$'),
    holder text NOT NULL CHECK (length(holder) <= 200),
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    interval_s double precision NOT NULL CHECK (interval_s > 0),
    next_due_at timestamptz NOT NULL DEFAULT now(),
    last_started_at timestamptz
);

CREATE TABLE petcare.job_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job text NOT NULL CHECK (job ~ '^[a-z][a-z0-9_]{0,62}$'),
    instance text NOT NULL CHECK (length(instance) <= 200),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    ok boolean,
    error text CHECK (length(error) <= 2000),
    detail jsonb
);
CREATE INDEX job_runs_job_idx ON petcare.job_runs (job, id DESC);
CREATE INDEX job_runs_started_idx ON petcare.job_runs (started_at);
CREATE INDEX job_runs_open_idx ON petcare.job_runs (instance) WHERE finished_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON petcare.job_leases, petcare.job_runs TO petcare_app;

-- Jobs act as the first admin (like the collector); any signed-in user may read how they run
-- (health), as with app-wide metrics.
ALTER TABLE petcare.job_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.job_leases FORCE ROW LEVEL SECURITY;
CREATE POLICY job_leases_select ON petcare.job_leases FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY job_leases_insert ON petcare.job_leases FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY job_leases_update ON petcare.job_leases FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY job_leases_delete ON petcare.job_leases FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));

ALTER TABLE petcare.job_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE petcare.job_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY job_runs_select ON petcare.job_runs FOR SELECT TO petcare_app
    USING ((SELECT petcare.current_user_id()) IS NOT NULL);
CREATE POLICY job_runs_insert ON petcare.job_runs FOR INSERT TO petcare_app
    WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY job_runs_update ON petcare.job_runs FOR UPDATE TO petcare_app
    USING ((SELECT petcare.is_admin())) WITH CHECK ((SELECT petcare.is_admin()));
CREATE POLICY job_runs_delete ON petcare.job_runs FOR DELETE TO petcare_app
    USING ((SELECT petcare.is_admin()));
