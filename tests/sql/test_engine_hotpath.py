"""The engine's one-round-trip paths keep every guarantee of the transactions they replaced.

`MetaStore.call` sends the identity prelude and one statement as one implicit transaction:
the identity must not outlive it, a failure must leave nothing written, and the RLS policies
must still judge petcare.engine_intent/engine_settle (SECURITY INVOKER). On the target, the
hand-written DECLARE/FETCH cursor must report error positions in the user's own text and leave
only clean statements in pg_stat_activity.
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import DatabaseError, PermissionDenied, PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, events, runs, target

__all__ = ["target"]  # the fixture is used by name


def _run_row(user_id: int, connection_id: int | None = None) -> str:
    return json.dumps(
        {
            "user_id": user_id,
            "connection_id": connection_id,
            "sql_text": "SELECT 1",
            "classification": "read_only",
            "outcome": "running",
        }
    )


def test_call_identity_dies_with_its_statement(rt: Runtime, admin: Actor) -> None:
    store = MetaStore(rt.store.url, min_size=1, max_size=1).open()  # the next checkout is it
    try:
        (row,) = store.call(admin.identity, "meta_who", {})
        assert (row["user_id"], row["role"]) == (str(admin.user_id), "petcare_app")
        with store.pool.connection() as conn:
            assert conn.autocommit is False  # restored for `tx`
            user, role = conn.execute(
                "SELECT current_setting('app.user_id', true), current_user"
            ).fetchone()
            conn.rollback()
        assert user in ("", None) and role != "petcare_app"
    finally:
        store.close()


def _outcome(actor: Actor, event_id: object) -> str:
    return audit.row_for(actor, "sql.execute", "ok", event_id=event_id, classification="read_only")


def test_a_failed_call_writes_nothing(rt: Runtime, admin: Actor, meta_url: str) -> None:
    before = len(audit.recent(rt.store, admin, limit=10_000))
    bad_run = json.dumps({"user_id": admin.user_id, "sql_text": None, "classification": "x"})
    with pytest.raises(PetcareError):  # sql_text NOT NULL: the run insert fails
        rt.store.call(
            admin.identity,
            "engine_settle_call",
            {
                "run": bad_run,
                "outcome": json.dumps({"outcome": "ok"}),
                "audit": _outcome(admin, audit.new_event_id()),
            },
        )
    assert len(audit.recent(rt.store, admin, limit=10_000)) == before  # no outcome row either
    assert runs(meta_url) == []


def test_the_intent_and_the_settle_are_judged_by_rls(rt: Runtime, admin: Actor, make_user) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vera", "viewer")
    forged_audit = audit.row_for(
        admin, "sql.execute", "intent", sql_text="SELECT 1", event_id=audit.new_event_id()
    )
    with pytest.raises((PermissionDenied, DatabaseError)) as caught:
        rt.store.call(
            viewer.identity,
            "engine_intent_call",
            {"audit": forged_audit, "connection_id": None, "stamp": None},
        )
    assert caught.value.sqlstate == "42501"  # row-level security, not a Python check
    # A run row in another user's name, or an outcome row in another user's name: refused.
    for run_user, outcome_actor in ((admin, viewer), (viewer, admin)):
        with pytest.raises((PermissionDenied, DatabaseError)) as caught:
            rt.store.call(
                viewer.identity,
                "engine_settle_call",
                {
                    "run": _run_row(run_user.user_id),
                    "outcome": json.dumps({"outcome": "ok"}),
                    "audit": _outcome(outcome_actor, audit.new_event_id()),
                },
            )
        assert caught.value.sqlstate == "42501"
    assert [e.outcome for e in audit.recent(rt.store, admin, action="sql.execute")] == []


def test_cursor_errors_point_into_the_users_text(rt: Runtime, admin: Actor, target: Target) -> None:
    text = "SELECT id, no_such_column FROM t"
    result = engine.run(rt, admin, "tgt", text)
    assert result.error is not None and result.error.sqlstate == "42703"
    assert result.error.position == text.index("no_such_column") + 1
    assert [e.outcome for e in events(rt, admin)] == ["intent", "error"]


def test_the_cursor_statements_are_clean_in_pg_stat_activity(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    result = engine.run(
        rt, admin, "tgt", "SELECT (SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid())"
    )
    (query,) = result.results
    assert query.rows[0][0].startswith("FETCH FORWARD ")  # no comment in front of it


def test_backends_killed_between_checkouts_are_replaced_silently(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    # The checkout check skips the round trip on a quiet socket; a terminated backend's socket
    # is not quiet, so the pool must still notice and hand out a fresh connection (F4).
    rt.store.call(admin.identity, "meta_who", {})
    with psycopg.connect(meta_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'petcare-dba/meta' AND datname = current_database()"
        ).fetchone()[0]
    assert killed >= 1
    time.sleep(0.2)  # the FATAL message reaches the idle sockets
    for _ in range(int(rt.settings.pool_max_size) + 1):
        (row,) = rt.store.call(admin.identity, "meta_who", {})
        assert row["role"] == "petcare_app"
    assert audit.recent(rt.store, admin, limit=1) is not None
