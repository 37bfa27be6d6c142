-- Background jobs: leases (one leader per job across instances) and run records (migration 0023).

-- name: jobs_leases_renew
-- Take or keep each job's lease for this instance; returns the jobs it leads and when each is due.
INSERT INTO petcare.job_leases AS l (job, holder, expires_at, interval_s)
SELECT j.job, %(me)s, now() + make_interval(secs => %(lease_s)s), j.interval_s
FROM unnest(%(jobs)s::text[], %(intervals)s::float8[]) AS j(job, interval_s)
ORDER BY j.job
ON CONFLICT (job) DO UPDATE
    SET holder = EXCLUDED.holder,
        expires_at = EXCLUDED.expires_at,
        acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END,
        interval_s = EXCLUDED.interval_s,
        -- a shortened interval takes effect now, not after the old one
        next_due_at = LEAST(l.next_due_at,
                            COALESCE(l.last_started_at, now())
                            + make_interval(secs => EXCLUDED.interval_s))
    WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
RETURNING l.job, extract(epoch FROM l.next_due_at - now())::float8 AS due_in_s

-- name: jobs_run_start
-- Claim a due run of a job this instance leads (moves the due time one interval on); its run id.
WITH due AS (
    UPDATE petcare.job_leases
    SET next_due_at = now() + make_interval(secs => %(interval_s)s), last_started_at = now()
    WHERE job = %(job)s AND holder = %(me)s AND expires_at > now() AND next_due_at <= now()
    RETURNING job)
INSERT INTO petcare.job_runs (job, instance)
SELECT job, %(me)s FROM due
RETURNING id

-- name: jobs_run_finish
-- Record how a run ended.
UPDATE petcare.job_runs
SET finished_at = clock_timestamp(), ok = %(ok)s, error = left(%(error)s, 2000),
    detail = %(detail)s::jsonb
WHERE id = %(id)s

-- name: jobs_release
-- A clean stop: give up this instance's leases (another takes over at once) and close its open runs.
-- The error is msg.monitoring.job_interrupted word for word (read back translated).
WITH released AS (
    UPDATE petcare.job_leases SET expires_at = now() WHERE holder = %(me)s RETURNING job)
UPDATE petcare.job_runs
SET finished_at = clock_timestamp(), ok = false, error = 'interrupted: the instance stopped'
WHERE instance = %(me)s AND finished_at IS NULL

-- name: jobs_status
-- Each job's lease, schedule and latest run (lag: seconds past its due time).
SELECT l.job, l.interval_s, l.next_due_at,
       CASE WHEN l.expires_at > now() THEN l.holder END AS leader,
       greatest(0, extract(epoch FROM now() - l.next_due_at))::float8 AS lag_s,
       r.started_at AS last_started, r.finished_at AS last_finished, r.ok AS last_ok,
       r.error AS last_error, r.instance AS last_instance,
       (SELECT count(*) FROM petcare.job_runs f
        WHERE f.job = l.job AND f.started_at > now() - interval '1 hour') AS runs_1h,
       (SELECT count(*) FROM petcare.job_runs f
        WHERE f.job = l.job AND f.ok = false AND f.started_at > now() - interval '1 hour')
           AS failures_1h
FROM petcare.job_leases l
LEFT JOIN LATERAL (
    SELECT started_at, finished_at, ok, error, instance FROM petcare.job_runs
    WHERE job = l.job ORDER BY id DESC LIMIT 1) r ON true
ORDER BY l.job

-- name: jobs_runs_prune
-- Drop run records past their retention.
DELETE FROM petcare.job_runs WHERE started_at < now() - make_interval(days => %(days)s)
