"""Explicit transactions of dba users (BEGIN ... COMMIT/ROLLBACK across reruns) and Q7.

Q7: a transaction left idle past idle_in_transaction_timeout_ms is ended by the server, the UI
says "transaction was rolled back because it was idle", and no locks remain in pg_locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import ConnectionLost, NeedsConfirmation, PermissionDenied
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql.transaction import IDLE, ExplicitTransaction
from tests.fix_engine import Target, events, target, tune
from tests.sql.test_editor_page import click, editor, rerun, settle

__all__ = ["target"]  # fixture used by name

LOCKS = (
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE a.application_name LIKE 'petcare-dba/%%' AND l.locktype = 'relation'"
)


def test_statements_stay_uncommitted_until_commit(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tx = ExplicitTransaction(rt, admin, "tgt")
    result = tx.run("UPDATE t SET note = 'changed' WHERE id = 1")
    assert result.ok and result.mode == "explicit" and not result.committed
    assert target.table()[0] == (1, "one")  # not visible outside yet
    assert tx.run("SELECT note FROM t WHERE id = 1").results[0].rows == (("changed",),)
    tx.commit()
    assert target.table()[0] == (1, "changed") and tx.state == "committed"
    actions = [e.action for e in audit.recent(rt.store, admin)]
    assert "sql.transaction.begin" in actions and "sql.transaction.commit" in actions


def test_rollback_discards_and_destructive_statements_still_need_confirmation(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tx = ExplicitTransaction(rt, admin, "tgt")
    with pytest.raises(NeedsConfirmation):
        tx.run("DELETE FROM t")
    tx.run("DELETE FROM t", confirmed=True).raise_for_error()
    tx.rollback()
    assert len(target.table()) == 3
    assert [e.outcome for e in events(rt, admin)][-3:] == ["confirm", "intent", "ok"]


def test_a_failed_statement_makes_commit_roll_back(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tx = ExplicitTransaction(rt, admin, "tgt")
    tx.run("UPDATE t SET note = 'x' WHERE id = 2").raise_for_error()
    assert tx.run("SELECT nope FROM t").error is not None
    tx.commit()
    assert tx.state == "rolled_back" and "rolled the transaction back" in (tx.ended_reason or "")
    assert target.table()[1] == (2, "two")


def test_only_dba_and_admin_open_transactions(
    rt: Runtime,
    target: Target,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(PermissionDenied):
        ExplicitTransaction(rt, make_user("ana", "analyst"), "tgt")


def test_idle_transaction_is_ended_by_the_server_and_said_so(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tune(rt, idle_in_transaction_timeout_ms=1000)
    tx = ExplicitTransaction(rt, admin, "tgt")
    tx.run("LOCK TABLE t IN ACCESS EXCLUSIVE MODE").raise_for_error()
    assert target.rows(LOCKS)[0][0] >= 1
    time.sleep(1.8)
    assert tx.check() is not None and tx.check().startswith(IDLE)
    assert tx.state == "idle_timeout"
    assert target.rows(LOCKS)[0][0] == 0
    with pytest.raises(ConnectionLost, match="idle"):
        tx.run("SELECT 1")  # no silent reconnect


def test_ui_transaction_idle_timeout_is_shown(
    app: Callable[[], AppTest],
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PETCARE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1000")
    at = click(editor(app), "ed_tx_begin")
    assert at.session_state["ed_tx"].is_open
    at.session_state["ed_text"] = "UPDATE t SET note = 'tx' WHERE id = 3"
    at = settle(click(at, "ed_run"))
    assert any("not committed" in c.value for c in at.caption)
    time.sleep(1.8)
    at = rerun(at)
    assert any("transaction was rolled back because it was idle" in e.value for e in at.error)
    assert target.rows(LOCKS)[0][0] == 0 and target.table()[2] == (3, "three")
    at = click(at, "ed_tx_reconnect")
    assert at.session_state["ed_tx"] is None if "ed_tx" in at.session_state else True


def test_ui_commit_button_commits(app: Callable[[], AppTest], target: Target) -> None:
    at = click(editor(app), "ed_tx_begin")
    at.session_state["ed_text"] = "UPDATE t SET note = 'done' WHERE id = 1"
    at = settle(click(at, "ed_run"))
    at = click(at, "ed_tx_commit")
    assert target.table()[0] == (1, "done")
    assert any("committed" in i.value for i in at.info)
