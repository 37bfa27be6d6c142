"""Q10 (service half): a gone tab's target connections are released, and its transaction says why.

`ExplicitTransaction.abandon` rolls back with the tab-closed reason in the audit rows;
`engine.release_session` closes the idle connections named for the session (both its editor and
its assistant name) and nobody else's; `engine.sweep` closes idle ones past the pool's idle
lifetime. Checked in the target's pg_stat_activity.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from petcare_dba.db import target as db_target
from petcare_dba.db.target import pool as target_pool
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from petcare_dba.services.sql.transaction import TAB_CLOSED, ExplicitTransaction
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name


def app_name(actor: Actor, ai: bool = False) -> str:
    return db_target.application_name(actor.username, actor.session_id, ai=ai)


def backends(tgt: Target, actor: Actor, ai: bool = False) -> int:
    return len(tgt.activity(app_name(actor, ai)))


def settle_to(tgt: Target, actor: Actor, want: int, ai: bool = False) -> None:
    """A closed socket ends its backend a moment later: wait (bounded) for the count."""
    deadline = time.monotonic() + 5
    while backends(tgt, actor, ai) != want:
        assert time.monotonic() < deadline, f"{app_name(actor, ai)}: not {want} backend(s)"
        time.sleep(0.1)


def test_abandon_rolls_back_audits_why_and_release_closes_the_sessions_connections(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tab = dataclasses.replace(admin, session_id="s-closed-tab")
    other = dataclasses.replace(admin, session_id="s-still-open")
    tx = ExplicitTransaction(rt, tab, "tgt")
    tx.run("UPDATE t SET note = 'held' WHERE id = 1").raise_for_error()
    engine.run(rt, tab, "tgt", "SELECT 1").raise_for_error()  # a second connection, now idle
    engine.run(rt, other, "tgt", "SELECT 1").raise_for_error()
    settle_to(target, tab, 2)  # the idle one and the one holding the transaction
    locked = target.rows(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
        "AND state = 'idle in transaction'",
        (app_name(tab),),
    )
    assert locked == [(1,)]

    tx.abandon()
    assert tx.state == "rolled_back" and tx.ended_reason == TAB_CLOSED
    assert target.table()[0] == (1, "one")
    rows = [e for e in audit.recent(rt.store, admin) if e.action == "sql.transaction.rollback"]
    assert [e.outcome for e in reversed(rows)] == ["intent", "ok"]
    assert all(e.detail.get("reason") == TAB_CLOSED for e in rows)
    assert rows[0].detail.get("state") == "rolled_back"
    assert backends(target, tab) == 2  # given back to the pool, still open: idle

    assert engine.release_session(rt, tab) == 2
    settle_to(target, tab, 0)
    assert backends(target, other) == 1, "another session's idle connection was closed"
    assert engine.release_session(rt, tab) == 0  # nothing left: a second call is harmless
    engine.run(rt, tab, "tgt", "SELECT 1").raise_for_error()  # the pool still serves
    settle_to(target, tab, 1)


def test_release_covers_the_assistant_name_and_leaves_a_running_statement_alone(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tab = dataclasses.replace(admin, session_id="s-ai-tab")
    engine.run(rt, tab, "tgt", "SELECT 1", ai_initiated=True).raise_for_error()
    settle_to(target, tab, 1, ai=True)
    tx = ExplicitTransaction(rt, tab, "tgt")  # checked out: not idle, not released
    assert engine.release_session(rt, tab) == 1
    settle_to(target, tab, 0, ai=True)
    assert tx.run("SELECT 1").ok  # the held connection still works
    tx.rollback()


def test_sweep_closes_idle_connections_past_their_lifetime(
    rt: Runtime, admin: Actor, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = dataclasses.replace(admin, session_id="s-swept")
    engine.run(rt, tab, "tgt", "SELECT 1").raise_for_error()
    settle_to(target, tab, 1)
    assert engine.sweep(rt) == 0  # young: kept for reuse
    settle_to(target, tab, 1)
    monkeypatch.setattr(target_pool, "IDLE_TTL_S", 0.0)
    assert engine.sweep(rt) == 1
    settle_to(target, tab, 0)
