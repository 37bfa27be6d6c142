"""Reconciliation marks both the orphaned audit intent and its execution row 'unknown' (A2)."""

from __future__ import annotations

import time
import uuid

import psycopg

from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import housekeeping, jobs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit


def _orphan(rt: Runtime, admin: Actor, meta_url: str, age: str) -> uuid.UUID:
    """An intent and its 'running' execution row as a process killed `age` ago leaves them."""
    event = audit.new_event_id()
    audit.record(rt.store, admin, "sql.execute", "intent", event_id=event, sql_text="SELECT 1")
    with rt.store.tx(admin.identity) as tx:
        tx.execute(
            "INSERT INTO petcare.execucoes_scripts (user_id, sql_text, classification, "
            "audit_event_id, started_at) VALUES (%(u)s, 'SELECT 1', 'read_only', %(e)s, "
            "now() - %(age)s::interval)",
            {"u": admin.user_id, "e": event, "age": age},
        )
    _age(meta_url, [event], age)
    return event


def _age(meta_url: str, events: list[uuid.UUID], age: str) -> None:
    """Move the events' audit rows `age` into the past (as superuser, past the no-update rule)."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE petcare.audit_log SET at = at - %s::interval WHERE event_id = ANY(%s)",
            (age, events),
        )
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER audit_log_no_update")


def _outcome(rt: Runtime, admin: Actor, event: uuid.UUID) -> tuple[set[str], str]:
    with rt.store.tx(admin.identity) as tx:
        rows = tx.all("SELECT outcome FROM petcare.audit_log WHERE event_id = %s", (event,))
        audited = {r["outcome"] for r in rows}
        run = tx.value(
            "SELECT outcome FROM petcare.execucoes_scripts WHERE audit_event_id = %s", (event,)
        )
    return audited, run


def test_reconcile_marks_orphaned_intent_and_running_row_unknown(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    _orphan(rt, admin, meta_url, "1 hour")
    assert audit.reconcile(rt.store, admin, older_than_minutes=5) >= 1
    outcomes = {e.outcome for e in audit.recent(rt.store, admin, action="sql.execute")}
    assert "unknown" in outcomes
    with rt.store.tx(admin.identity) as tx:
        assert tx.value("SELECT outcome FROM petcare.execucoes_scripts") == "unknown"


def test_the_in_app_job_reconciles_recent_orphans_and_leaves_old_ones_to_the_cli(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    recent = _orphan(rt, admin, meta_url, "10 minutes")
    ancient = _orphan(rt, admin, meta_url, "3 days")
    fresh = _orphan(rt, admin, meta_url, "1 minute")  # may still be running: left alone
    assert housekeeping.reconcile_recent(rt) == 1
    assert _outcome(rt, admin, recent) == ({"intent", "unknown"}, "unknown")
    assert _outcome(rt, admin, ancient) == ({"intent"}, "running")  # outside the job's window
    assert _outcome(rt, admin, fresh) == ({"intent"}, "running")
    assert audit.reconcile(rt.store, admin, older_than_minutes=5) == 1  # the CLI's full scan
    assert _outcome(rt, admin, ancient) == ({"intent", "unknown"}, "unknown")


def test_the_job_runner_runs_the_job(rt: Runtime, admin: Actor, meta_url: str) -> None:
    event = _orphan(rt, admin, meta_url, "10 minutes")
    rt.settings = rt.settings.with_overrides(jobs_reconcile_interval_s=1, jobs_lease_s=1.0)
    scheduler = jobs.start(rt)
    try:
        deadline = time.monotonic() + 20
        while _outcome(rt, admin, event)[1] != "unknown":
            assert time.monotonic() < deadline, scheduler.last_error
            time.sleep(0.2)
    finally:
        jobs.stop(rt, 10)


def test_an_intent_whose_process_died_gets_an_unknown_run_row_from_the_intent(
    rt: Runtime, admin: Actor, meta_url: str, make_user
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a run row is written with its outcome, so an orphaned intent of this version has
    none; the reconcile writes it, 'unknown', from what the intent holds, once."""
    gone = make_user("gone", "analyst")
    events = {}
    for actor, name in ((admin, "kept"), (gone, "gone")):
        event = audit.new_event_id()
        audit.record(
            rt.store,
            actor,
            "sql.execute",
            "intent",
            event_id=event,
            sql_text="SELECT 2",
            classification="read_only",
            detail={"statement_index": 3},
        )
        events[name] = event
    other = audit.new_event_id()  # an intent of another action has no run row to write
    audit.record(rt.store, admin, "backup.create", "intent", event_id=other)
    _age(meta_url, [events["kept"], events["gone"], other], "1 hour")
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("DELETE FROM petcare.users WHERE id = %s", (gone.user_id,))
    assert audit.reconcile(rt.store, admin, older_than_minutes=5) == 3
    assert audit.reconcile(rt.store, admin, older_than_minutes=5) == 0  # once
    with psycopg.connect(meta_url) as conn:
        rows = conn.execute(
            "SELECT e.outcome, e.sql_text, e.statement_index, e.classification, e.user_id, "
            "e.started_at = a.at FROM petcare.execucoes_scripts e "
            "JOIN petcare.audit_log a ON a.event_id = e.audit_event_id AND a.outcome = 'intent'"
        ).fetchall()
    # the removed user's intent is closed in the log, but has no history row to keep
    assert rows == [("unknown", "SELECT 2", 3, "read_only", admin.user_id, True)]
