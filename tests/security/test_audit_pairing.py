"""Every audit intent is paired with its outcome by one event id (reliability A2): after the
reconcile job, an action that finished is never 'unknown'. The fault matrix found backups
writing intents without an event id; these are the other paths that did the same."""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.services import monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql.transaction import ExplicitTransaction
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixtures used by name


def _unknown_after_reconcile(rt: Runtime, admin: Actor) -> list[str]:
    audit.reconcile(rt.store, admin, older_than_minutes=0)
    return [e.action for e in audit.recent(rt.store, admin, outcome="unknown", limit=1000)]


def test_an_intent_without_an_event_id_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="without an event_id"):
        audit.row_for(None, "backup.create", "intent")


def test_explicit_transactions_pair_begin_and_commit(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tx = ExplicitTransaction(rt, admin, "tgt")
    tx.run("UPDATE t SET note = 'paired' WHERE id = 1")
    tx.commit()
    again = ExplicitTransaction(rt, admin, "tgt")
    again.run("SELECT 1")
    again.rollback()
    pairs = {
        (e.action, e.outcome)
        for e in audit.recent(rt.store, admin, limit=1000)
        if e.action.startswith("sql.transaction.")
    }
    assert {("sql.transaction.begin", "ok"), ("sql.transaction.commit", "ok")} <= pairs
    assert _unknown_after_reconcile(rt, admin) == []


def test_cancelling_a_backend_pairs_its_intent(rt: Runtime, admin: Actor, target: Target) -> None:
    with psycopg.connect(target.url, autocommit=True) as victim:
        pid = victim.info.backend_pid
        victim.execute("SELECT 1")
        sent = monitoring.signal(rt, admin, "tgt", pid, terminate=False, confirmed=True)
    assert sent in (True, False)
    assert _unknown_after_reconcile(rt, admin) == []
