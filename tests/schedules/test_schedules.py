"""Schedules end to end on a real store and target: each kind runs once (backup with retention,
a script's result kept, an advisor run alerting on a new ERROR finding), a run is claimed once
by concurrent workers, catch-up after downtime, run-now, pause, and the audit of each change."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from petcare_dba.services import alerts, backups, projects, schedules
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.monitoring.scheduler import Scheduler
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_engine import Target, target  # noqa: F401
from tests.schedules.fix_schedules import make_due, runs


def _backup_schedule(rt: Runtime, actor: Actor, **kw: object) -> int:
    return schedules.add(
        rt,
        actor,
        name="nightly-t",
        kind="backup",
        cron_expr="0 3 * * *",
        tz="UTC",
        connection="tgt",
        schema="public",
        table="t",
        **kw,
    )


def test_a_backup_schedule_backs_up_and_prunes_by_count(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = _backup_schedule(rt, admin, keep_count=2)
    for _ in range(3):
        make_due(meta_url, sid)
        assert schedules.run_due(rt) == {"ok": 1, "failed": 0}
    done = runs(meta_url, sid)
    assert [r["status"] for r in done] == ["ok", "ok", "ok"]
    kept = backups.list_backups(rt, admin, "tgt", "public.t")
    assert len(kept) == 2 and kept[0].id == done[-1]["result"]["backup_id"]
    first = done[0]["result"]["backup_id"]
    assert done[-1]["result"]["pruned"] == [first]
    gone = backups.list_backups(rt, admin, "tgt", "public.t", include_deleted=True)
    assert next(b for b in gone if b.id == first).status == "deleted"
    folder = backups.store_dir(rt.settings) / str(next(b for b in gone if b.id == first).path)
    assert not folder.exists()  # files and catalogue agree
    actions = [e.action for e in audit.search(rt.store, admin, limit=200)]
    assert {"schedule.add", "schedule.run", "backup.delete"} <= set(actions)


def test_retention_by_age_keeps_the_newest_backup(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = _backup_schedule(rt, admin, keep_days=1)
    make_due(meta_url, sid)
    schedules.run_due(rt)
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.table_backups SET created_at = now() - interval '3 days'")
    make_due(meta_url, sid)
    schedules.run_due(rt)
    make_due(meta_url, sid)
    schedules.run_due(rt)  # the old one is past 1 day; the two recent ones stay
    statuses = [
        b.status for b in backups.list_backups(rt, admin, "tgt", "public.t", include_deleted=True)
    ]
    assert statuses == ["ok", "ok", "deleted"]


def test_a_script_schedule_keeps_its_result_and_a_failure_alerts(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    projects.create(rt, admin, "reports")
    projects.scripts.save(rt, admin, "reports", "count", "SELECT count(*) AS n FROM t")
    projects.scripts.save(rt, admin, "reports", "count", "SELECT * FROM missing_table")
    sid = schedules.add(
        rt,
        admin,
        name="count-v1",
        kind="script",
        cron_expr="*/5 * * * *",
        connection="tgt",
        project="reports",
        script="count",
        version=1,
    )
    run = schedules.run_now(rt, admin, sid)
    assert run.status == "ok" and run.trigger == "manual"
    assert run.result and run.result["version"] == 1
    assert run.result["statements"][0]["sample"] == [[3]]
    latest = schedules.add(
        rt,
        admin,
        name="count-latest",
        kind="script",
        cron_expr="*/5 * * * *",
        connection="tgt",
        project="reports",
        script="count",
    )
    alerts.channels.add_webhook(rt, admin, "ops", "http://127.0.0.1:9/hook")
    failed = schedules.run_now(rt, admin, latest)
    assert failed.status == "failed" and "missing_table" in (failed.error or "")
    assert failed.result and failed.result["version"] == 2  # kept with the failure
    (event,) = [e for e in alerts.history(rt, admin, state="firing") if e.rule == "schedule-failed"]
    queued = [r for r in alerts.outbox.rows(rt, admin) if r.event_id == event.id]
    assert [(r.kind, r.channel) for r in queued] == [("firing", "ops")]  # through the outbox
    schedules.run_now(rt, admin, sid)  # the next success on the connection resolves it
    assert not [e for e in alerts.history(rt, admin, state="firing") if e.rule == "schedule-failed"]


def test_an_advisor_schedule_alerts_on_a_new_error_finding_only(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = schedules.add(
        rt, admin, name="lint", kind="advisor", cron_expr="0 * * * *", connection="tgt"
    )
    first = schedules.run_now(rt, admin, sid)
    assert first.status == "ok" and first.result and first.result["new_error_count"] == 0
    target.execute("CREATE TABLE rd (id int)")
    target.execute("CREATE POLICY rd_p ON rd USING (id > 0)")  # RLS off with a policy: ERROR
    second = schedules.run_now(rt, admin, sid)
    assert second.result and second.result["new_error_count"] == 1
    assert "rls_disabled_with_policies" in second.result["new_errors"][0]
    firing = [e for e in alerts.history(rt, admin, state="firing") if e.rule == "advisor-new-error"]
    assert len(firing) == 1 and firing[0].connection == "tgt"
    third = schedules.run_now(rt, admin, sid)  # the same finding again is not new
    assert third.result and third.result["new_error_count"] == 0


def test_concurrent_claims_take_a_due_run_once(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = schedules.add(
        rt, admin, name="lint", kind="advisor", cron_expr="0 3 * * *", connection="tgt"
    )
    make_due(meta_url, sid)
    claimed: list[int] = []
    barrier = threading.Barrier(6)

    def claim(n: int) -> None:
        barrier.wait()
        claimed.extend(schedules.claim_due(rt, f"w{n}"))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 1 and len(runs(meta_url, sid)) == 1


@pytest.mark.slow
def test_a_schedule_runs_once_with_two_workers_running(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    rt.settings = rt.settings.with_overrides(schedules_poll_s=1)
    sid = _backup_schedule(rt, admin)
    table = [j for j in jobs.table(rt) if j.name == "schedules"]
    workers = [Scheduler(rt, table, lease_s=0.6), Scheduler(rt, table, lease_s=0.6)]
    for w in workers:
        w.start()
    try:
        make_due(meta_url, sid)
        deadline = time.monotonic() + 10
        while not [r for r in runs(meta_url, sid) if r["status"] != "running"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        workers[0].stop(5)  # the other takes the lease over and must not run the tick again
        time.sleep(2.5)
    finally:
        for w in workers:
            w.stop(5)
    done = runs(meta_url, sid)
    assert len(done) == 1 and done[0]["status"] == "ok" and done[0]["trigger"] == "cron"
    assert len(backups.list_backups(rt, admin, "tgt", "public.t")) == 1


def test_after_downtime_a_schedule_catches_up_once(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = schedules.add(
        rt, admin, name="hourly", kind="advisor", cron_expr="0 * * * *", connection="tgt"
    )
    with psycopg.connect(meta_url, autocommit=True) as conn:  # due 5 ticks ago: down 5 hours
        conn.execute(
            "UPDATE petcare.schedules SET next_due_at = date_trunc('hour', now()) - "
            "interval '5 hours' WHERE id = %s",
            (sid,),
        )
    assert schedules.run_due(rt) == {"ok": 1, "failed": 0}
    assert schedules.run_due(rt) == {"ok": 0, "failed": 0}
    (only,) = runs(meta_url, sid)
    assert only["trigger"] == "catch_up" and only["missed"] == 5
    assert schedules.get(rt, admin, sid).next_due_at.timestamp() > time.time()


def test_a_paused_schedule_does_not_run_and_resumes_from_now(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    sid = schedules.add(
        rt, admin, name="p", kind="advisor", cron_expr="0 * * * *", connection="tgt"
    )
    schedules.pause(rt, admin, sid)
    make_due(meta_url, sid, "3 hours")
    assert schedules.run_due(rt) == {"ok": 0, "failed": 0}
    schedules.resume(rt, admin, "p")
    assert schedules.run_due(rt) == {"ok": 0, "failed": 0}  # no catch-up of the pause
    assert runs(meta_url, sid) == []
    schedules.remove(rt, admin, sid)
    assert schedules.list_schedules(rt, admin) == []
    actions = {e.action for e in audit.search(rt.store, admin, limit=100)}
    assert {"schedule.pause", "schedule.resume", "schedule.remove"} <= actions


def test_history_is_bounded(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    rt.settings = rt.settings.with_overrides(schedule_runs_keep=2)
    sid = schedules.add(
        rt, admin, name="h", kind="advisor", cron_expr="0 * * * *", connection="tgt"
    )
    ids = [schedules.run_now(rt, admin, sid).id for _ in range(3)]
    assert [r.id for r in schedules.history(rt, admin, sid)] == ids[:0:-1]
