"""Claiming due schedule runs exactly once, running them as their owner, and recording them.

`run_due(rt)` is the worker's `schedules` job (services/monitoring/jobs.py). One transaction
locks the due, unpaused schedules FOR UPDATE SKIP LOCKED, moves each one's next due time to its
first tick after now and inserts its run, keyed UNIQUE (schedule_id, due_at): however many
workers look at once, each tick is claimed by one of them. Catch-up policy: a schedule found
overdue (the worker was down) runs once for the whole missed window, its run marked
`catch_up` with the number of ticks it covers; it never replays every missed tick.

A run builds the owner from the owner's current user row: a disabled owner's run fails with
that reason; a demoted one runs with the new role, so the services refuse what it no longer
allows (a backup without dba, a write script as a viewer, a project the owner left). Every run
is audited as the owner (`schedule.run`), its summary kept in the history (bounded by
`schedule_runs_keep`), and a failure fires the connection's `schedule-failed` alert (resolved by
the next success); an advisor run with a new ERROR finding fires `advisor-new-error`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime
from typing import Any

from petcare_dba.errors import NotFound, PermissionDenied, PetcareError
from petcare_dba.messages import say
from petcare_dba.services import alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.schedules import cron, kinds
from petcare_dba.services.schedules.store import Run, get
from petcare_dba.services.security import audit, users

log = logging.getLogger(__name__)
CLAIM_LIMIT = 50  # schedules claimed per look; the rest wait for the next one


def system(rt: Runtime) -> Actor:
    """The identity the job claims and records runs as: the first admin."""
    return dataclasses.replace(users.actor_for(rt, None), session_id="schedules")


def claim_due(rt: Runtime, instance: str, *, now: datetime | None = None) -> list[int]:
    """Claim every due schedule's run for this instance; the run ids claimed."""
    sys_actor = system(rt)
    claimed: list[int] = []
    with rt.store.tx(sys_actor.identity) as tx:
        for row in tx.all("schedule_due_lock", {"limit": CLAIM_LIMIT}):
            at = now or datetime.now(UTC)
            due = row["next_due_at"]
            missed = cron.ticks_between(row["cron"], row["tz"], due, at) + 1
            tx.execute(
                "schedule_advance",
                {"id": row["id"], "next_due_at": cron.next_after(row["cron"], row["tz"], at)},
            )
            run_id = tx.value(
                "schedule_run_claim",
                {
                    "id": row["id"],
                    "due_at": due,
                    "trigger": "catch_up" if missed > 1 else "cron",
                    "missed": missed - 1,
                    "instance": instance,
                },
            )
            if run_id is not None:
                claimed.append(int(run_id))
    return claimed


def _owner(row: dict[str, Any]) -> Actor:
    if row["owner_disabled"]:
        raise PermissionDenied(say("msg.schedules.owner_disabled", owner=repr(row["owner"])))
    return Actor(int(row["owner_id"]), row["owner"], row["owner_role"], "schedule")


def _execute(rt: Runtime, row: dict[str, Any]) -> dict[str, Any]:
    owner = _owner(row)
    if row["kind"] == "backup":
        return kinds.backup(rt, owner, row)
    row["connection_info"] = connections.get(rt, owner, row["connection"])
    if row["kind"] == "script":
        return kinds.script(rt, owner, row)
    return kinds.advisor_run(rt, owner, row)


def _alert(rt: Runtime, sys_actor: Actor, conn_id: int, metrics: dict[str, float]) -> None:
    with rt.store.tx(sys_actor.identity) as tx:
        tx.execute(
            "mon_samples_insert",
            {"conn": conn_id, "metrics": list(metrics), "values": list(metrics.values())},
        )
        notes = alerts.evaluate(tx, rt, conn_id, metrics)
    alerts.deliver(rt, notes)


def execute(rt: Runtime, run_id: int, schedule_id: int) -> str:
    """Run a claimed run as the schedule's owner and record it; 'ok' or 'failed'."""
    sys_actor = system(rt)
    with rt.store.tx(sys_actor.identity) as tx:
        row = tx.one("schedule_for_run", {"id": schedule_id})
    if row is None:
        raise NotFound(say("msg.schedules.gone", id=str(schedule_id)))
    result: dict[str, Any] | None = None
    error: str | None = None
    try:
        result = _execute(rt, dict(row))
        error = result.get("error")
    except PetcareError as exc:
        error = exc.message
    except Exception as exc:  # a bug in one schedule must not stop the others; it is on record
        log.exception("schedule %s failed", schedule_id)
        error = f"{type(exc).__name__}: {exc}"
    status = "failed" if error else "ok"
    with rt.store.tx(sys_actor.identity) as tx:
        tx.execute(
            "schedule_run_finish",
            {
                "id": run_id,
                "status": status,
                "error": error,
                "result": json.dumps(result, default=str) if result is not None else None,
            },
        )
        tx.execute(
            "schedule_runs_trim", {"id": schedule_id, "keep": rt.settings.schedule_runs_keep}
        )
    who = Actor(int(row["owner_id"]), row["owner"], row["owner_role"], "schedule")
    audit.record(
        rt.store,
        who,
        "schedule.run",
        "ok" if status == "ok" else "error",
        connection_id=int(row["connection_id"]),
        target=row["name"],
        detail={
            "schedule_id": schedule_id,
            "run_id": run_id,
            "kind": row["kind"],
            "error": (error or "")[:300] or None,
        },
    )
    metrics = {"schedule_failed": 1.0 if error else 0.0}
    if row["kind"] == "advisor" and result is not None:
        metrics["advisor_new_errors"] = float(result.get("new_error_count", 0))
    _alert(rt, sys_actor, int(row["connection_id"]), metrics)
    return status


def run_due(rt: Runtime, instance: str = "") -> dict[str, int]:
    """The `schedules` job: claim what is due, run it; counts of runs by outcome."""
    counts = {"ok": 0, "failed": 0}
    me = instance or f"job:{id(rt)}"
    for run_id in claim_due(rt, me):
        with rt.store.tx(system(rt).identity) as tx:
            schedule_id = tx.value("schedule_run_schedule", {"id": run_id})
        counts[execute(rt, run_id, int(schedule_id))] += 1
    return counts


def run_now(rt: Runtime, actor: Actor, ref: str | int) -> Run:
    """Run a schedule at once (its owner or an admin), recorded as a manual run."""
    schedule = get(rt, actor, ref)
    if schedule.owner != actor.username and not actor.at_least("admin"):
        raise PermissionDenied(say("msg.schedules.owner_run", name=repr(schedule.name)))
    with rt.store.tx(system(rt).identity) as tx:
        run_id = int(
            tx.value(
                "schedule_run_claim",
                {
                    "id": schedule.id,
                    "due_at": datetime.now(UTC),
                    "trigger": "manual",
                    "missed": 0,
                    "instance": f"manual:{actor.username}",
                },
            )
        )
    audit.record(
        rt.store,
        actor,
        "schedule.run_now",
        "ok",
        target=schedule.name,
        detail={"schedule_id": schedule.id, "run_id": run_id},
    )
    execute(rt, run_id, schedule.id)
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("schedule_runs_list", {"id": schedule.id, "limit": 50})
    return next(Run(**r) for r in rows if r["id"] == run_id)
