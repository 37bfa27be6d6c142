"""The app's housekeeping jobs, run by the job runner (`monitoring.jobs`: worker and `up`).

Once a minute, `reconcile_recent` ends what a dead process left behind: audit intents without an
outcome become 'unknown' (reliability A2) and backups or restores that stopped beating become
'failed'. Hourly, `check_chain` verifies the audit hash chain and records the result as the app
metric `audit_chain_broken`, on which the 'audit-chain-break' alert rule fires. `retention`
folds raw samples into 5-minute averages and maintains the time partitions (migrations 0029 and
0030): days and audit months ahead are created, whatever reached a DEFAULT partition is moved
into its own, and monitoring days past retention are dropped whole; audit partitions are never
dropped (audit is evidence). No operator's cron is needed; the CLI commands (`audit reconcile`,
`audit verify`) still do the same on demand.
"""

from __future__ import annotations

from petcare_dba.services import alerts
from petcare_dba.services.backups import reconcile
from petcare_dba.services.monitoring.samples import insert_samples, system_actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

RECONCILE_WINDOW_MINUTES = 60
# Partitions made ahead: a job stopped for less than this loses nothing to a default partition
# (and what reaches one is moved out by the next run; see migration 0029).
PARTITION_AHEAD_DAYS = 3
AUDIT_PARTITION_AHEAD_MONTHS = 3


def reconcile_recent(rt: Runtime) -> int:
    """The in-app reconcile job: what a dead process left behind; how many rows it ended.

    Run once a minute (jobs_reconcile_interval_s) by the job runner, without an operator's
    cron: orphaned audit intents of the last hour past audit_reconcile_minutes become 'unknown'
    (A2; the window keeps each run an index range scan, migration 0012; `petcare-dba audit
    reconcile` still scans everything), and backups and restores that stopped beating become
    'failed' (migration 0013).
    """
    actor = system_actor(rt)
    count = audit.reconcile(
        rt.store,
        actor,
        rt.settings.audit_reconcile_minutes,
        within_minutes=RECONCILE_WINDOW_MINUTES,
    )
    return count + len(reconcile.reconcile_interrupted(rt, actor))


def check_chain(rt: Runtime) -> bool:
    """Verify the audit hash chain and record it as the app metric `audit_chain_broken`.

    The alert rule 'audit-chain-break' fires on it like on any other app metric; True when the
    chain verifies.
    """
    actor = system_actor(rt)
    status = audit.verify(rt.store, actor)
    metrics = {"audit_chain_broken": 0.0 if status.ok else 1.0}
    with rt.store.tx(actor.identity) as tx:
        insert_samples(tx, None, metrics)
        notes = alerts.evaluate(tx, rt, None, metrics)
    alerts.deliver(rt, notes)
    return status.ok


def retention(rt: Runtime) -> dict[str, int]:
    """Fold finished 5-minute buckets, maintain the time partitions, delete what is past retention.

    Returns what it did: rows deleted (alert history, advisor and job runs), partitions created
    and dropped, rows moved out of a default partition, and audit rows a default partition still
    holds (the append-only log cannot move them; nonzero means the job did not run for months).
    """
    s = rt.settings
    with rt.store.tx(system_actor(rt).identity) as tx:
        tx.execute("mon_rollup", {"raw_hours": s.monitoring_raw_retention_hours})
        parts = tx.one(
            "mon_partitions_maintain",
            {
                "raw_hours": s.monitoring_raw_retention_hours,
                "days": s.monitoring_rollup_retention_days,
                "ahead_days": PARTITION_AHEAD_DAYS,
            },
        )
        audit_parts = tx.one("audit_partitions_maintain", {"ahead": AUDIT_PARTITION_AHEAD_MONTHS})
        deleted = int(tx.value("mon_retention", {"days": s.monitoring_rollup_retention_days}) or 0)
        deleted += tx.execute("jobs_runs_prune", {"days": s.jobs_runs_retention_days})
    assert parts is not None and audit_parts is not None  # noqa: S101 - one row each, always
    return {
        "deleted": deleted,
        "partitions_created": int(parts["created"]) + int(audit_parts["created"]),
        "partitions_dropped": int(parts["dropped"]),
        "rows_moved": int(parts["moved"]),
        "audit_default_rows": int(audit_parts["left_over"]),
    }
