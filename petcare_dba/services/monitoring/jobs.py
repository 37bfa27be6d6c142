"""The background jobs of the app: the table, starting them for a process, and their status.

`table(rt)` is every job `petcare-dba worker` runs (and `petcare-dba up` from its start unless
`jobs_in_up` is false): sampling of every stored connection and of the app, with the alert
evaluation of each round's metrics in the round's own transaction; the scheduled advisor; the
users' schedules (`schedules.run_due`); the reconcile of what dead processes left behind; the
audit-chain check; retention. `start(rt)` runs them in a `scheduler.Scheduler` that stops when
the runtime closes; `status(rt)` is each job's lease and latest run, for health and /metrics.
Jobs never start at sign-in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from petcare_dba.messages import recognised_in
from petcare_dba.services import alerts, schedules
from petcare_dba.services.monitoring import collector, housekeeping
from petcare_dba.services.monitoring.samples import system_actor
from petcare_dba.services.monitoring.scheduler import Job, Scheduler
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

ADVISOR_CHECK_S = 60  # how often the advisor job looks for connections whose run is due


@dataclass(frozen=True)
class JobStatus:
    """One job as health and /metrics see it (lag_s: seconds past its due time)."""

    name: str
    interval_s: float
    leader: str | None
    last_started: datetime | None
    last_finished: datetime | None
    last_ok: bool | None
    last_error: str | None
    last_instance: str | None
    lag_s: float
    runs_1h: int
    failures_1h: int
    running: bool


def _sampling(rt: Runtime) -> dict[str, int]:
    rounds = collector.collect_once(rt)
    return {
        "connections": len(rounds),
        "sampled": sum(r.sampled for r in rounds),
        "failed": sum(r.error is not None for r in rounds),
    }


def _advisor(rt: Runtime) -> int:
    return collector.scheduled_advisor(rt, system_actor(rt))


def table(rt: Runtime) -> list[Job]:
    """Every background job with its interval from settings."""
    s = rt.settings
    jobs = [
        Job("reconcile", s.jobs_reconcile_interval_s, housekeeping.reconcile_recent),
        Job("audit_chain", s.jobs_chain_check_interval_s, housekeeping.check_chain),
        Job("retention", s.jobs_retention_interval_s, housekeeping.retention),
    ]
    if s.monitoring_enabled:
        jobs.append(Job("sampling", s.monitoring_interval_s, _sampling))
        if s.advisor_interval_minutes > 0:
            jobs.append(Job("advisor", ADVISOR_CHECK_S, _advisor))
    # Alert delivery runs off the sampling thread as its own job (the outbox claims rows with
    # SKIP LOCKED, so an app process's delivery thread running beside it never sends twice).
    jobs.append(Job("alert_delivery", s.alert_delivery_poll_s, alerts.deliver_due))
    # Scheduled backups, script and advisor runs (issue 20): each look claims due runs in the
    # store (FOR UPDATE SKIP LOCKED + UNIQUE (schedule_id, due_at)), so they run once.
    jobs.append(Job("schedules", s.schedules_poll_s, schedules.run_due))
    return jobs


_RUNNING: dict[int, Scheduler] = {}
_GUARD = threading.Lock()


def start(rt: Runtime, *, lease_s: float | None = None) -> Scheduler:
    """Run the job table for this runtime (once per runtime); it stops when the runtime closes."""
    with _GUARD:
        current = _RUNNING.get(id(rt))
        if current is not None:
            return current
        current = _RUNNING[id(rt)] = Scheduler(rt, table(rt), lease_s=lease_s)
    current.start()

    def close() -> None:
        stop(rt)

    rt.closers.append(close)
    return current


def stop(rt: Runtime, timeout: float | None = None) -> bool:
    """Stop this runtime's jobs (waits up to `timeout`, default shutdown_timeout_s)."""
    with _GUARD:
        current = _RUNNING.pop(id(rt), None)
    if current is None:
        return True
    wait = float(rt.settings.shutdown_timeout_s) if timeout is None else timeout
    return current.stop(wait)


def local(rt: Runtime) -> Scheduler | None:
    """The scheduler this process runs for `rt`, if any."""
    with _GUARD:
        return _RUNNING.get(id(rt))


def _row(r: dict[str, Any]) -> JobStatus:
    return JobStatus(
        r["job"],
        float(r["interval_s"]),
        r["leader"],
        r["last_started"],
        r["last_finished"],
        r["last_ok"],
        recognised_in(r["last_error"]),
        r["last_instance"],
        round(float(r["lag_s"]), 3),
        int(r["runs_1h"]),
        int(r["failures_1h"]),
        r["last_started"] is not None and r["last_finished"] is None,
    )


def status(rt: Runtime) -> list[JobStatus]:
    """Each job that ever ran on this store: leader, latest run, lag (as the first admin)."""
    identity = users.actor_for(rt, None).identity
    with rt.store.tx(identity) as tx:
        rows = tx.all("jobs_status")
    return [_row(r) for r in rows]


def metric_families(rt: Runtime) -> list[Metric]:
    """Each job's lag and last outcome as gauges, read from the shared store on a scrape.

    Registered by the app server with `observability.metrics.register_collector`, so every
    instance shows the same figures whichever process (an `up` or a worker) ran the job.
    """
    lag = GaugeMetricFamily(
        "petcare_job_lag_seconds", "Seconds past the job's due time.", labels=["job"]
    )
    last_ok = GaugeMetricFamily(
        "petcare_job_last_ok",
        "1 when the job's latest run succeeded, 0 when it failed.",
        labels=["job"],
    )
    failures = GaugeMetricFamily(
        "petcare_job_failures_last_hour", "Failed runs of the job in the last hour.", labels=["job"]
    )
    for job in status(rt):
        lag.add_metric([job.name], job.lag_s)
        if job.last_ok is not None:
            last_ok.add_metric([job.name], 1.0 if job.last_ok else 0.0)
        failures.add_metric([job.name], float(job.failures_1h))
    return [lag, last_ok, failures]
