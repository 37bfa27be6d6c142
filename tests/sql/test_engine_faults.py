"""The SQL engine under timeouts, locks, cancels and connection faults (real PostgreSQL).

Reliability Q5, Q6, Q9, F3, F5/F7 and F6, each with its execucoes_scripts and audit outcome.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from petcare_dba.db import target as target_db
from petcare_dba.errors import ConnectionLost, QueryCancelled, QueryTimeout, Unavailable
from petcare_dba.services import connections
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from petcare_dba.services.sql.engine import RunResult
from tests.fix_engine import SEED, Target, events, runs, target, tune, wait_for

__all__ = ["target"]  # the fixture is used by name

SLEEP = "SELECT pg_sleep(60)"


def _in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict[str, object]]:  # type: ignore[no-untyped-def]
    box: dict[str, object] = {}

    def body() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, box


def _active(target: Target, app_name: str) -> bool:
    # A SELECT runs as FETCH from a server-side cursor, so the state is what identifies it.
    return any(state == "active" for _, state, _ in target.activity(app_name))


def test_statement_timeout_is_enforced_by_the_server(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    tune(rt, statement_timeout_ms=1000)
    started = time.monotonic()
    result = engine.run(rt, admin, "tgt", SLEEP)
    assert time.monotonic() - started < 1.0 + 1.0
    assert isinstance(result.error, QueryTimeout) and result.error.sqlstate == "57014"
    assert "statement_timeout" in result.error.message
    time.sleep(2)
    app_name = target_db.application_name(admin.username, admin.session_id)
    assert not _active(target, app_name)
    assert [r["outcome"] for r in runs(meta_url)] == ["timeout"]
    assert [e.outcome for e in events(rt, admin)] == ["intent", "timeout"]


def test_lock_timeout_reports_waiting_for_a_lock(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    tune(rt, lock_timeout_ms=1000)
    with psycopg.connect(target.url) as holder:
        holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        result = engine.run(rt, admin, "tgt", "SELECT * FROM t")
        assert time.monotonic() - started < 1.0 + 1.0
        holder.rollback()
    assert isinstance(result.error, QueryTimeout) and result.error.sqlstate == "55P03"
    assert "waiting for a lock" in result.error.message
    assert [r["outcome"] for r in runs(meta_url)] == ["timeout"]


def test_cancel_from_another_thread_keeps_the_session_usable(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    handle = engine.new_handle()
    thread, box = _in_thread(engine.run, rt, admin, "tgt", SLEEP, handle=handle)
    app_name = target_db.application_name(admin.username, admin.session_id)
    wait_for(lambda: _active(target, app_name))
    started = time.monotonic()
    engine.cancel(handle)
    thread.join(5)
    assert time.monotonic() - started < 2.0
    result = box["result"]
    assert isinstance(result, RunResult) and isinstance(result.error, QueryCancelled)
    assert result.error.sqlstate == "57014"
    assert not _active(target, app_name)
    assert engine.run(rt, admin, "tgt", "SELECT 1").results[0].rows == ((1,),)
    assert [r["outcome"] for r in runs(meta_url)] == ["cancelled", "ok"]
    assert [e.outcome for e in events(rt, admin)][:2] == ["intent", "cancelled"]
    # A cancelled handle stops anything that has not started yet.
    result = engine.run(rt, admin, "tgt", "SELECT 2", handle=handle)
    assert isinstance(result.error, QueryCancelled)


def test_terminated_backend_is_reported_and_the_next_query_reconnects(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    thread, box = _in_thread(engine.run, rt, admin, "tgt", SLEEP)
    app_name = target_db.application_name(admin.username, admin.session_id)
    wait_for(lambda: _active(target, app_name))
    ((pid, _, _),) = target.activity(app_name)
    target.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(10)
    result = box["result"]
    assert isinstance(result, RunResult) and isinstance(result.error, ConnectionLost)
    assert "terminated by administrator (57P01)" in result.error.message
    assert engine.run(rt, admin, "tgt", "SELECT 1").ok
    ((new_pid, _, _),) = target.activity(app_name)
    assert new_pid != pid


def test_idle_connection_killed_outside_is_replaced_silently(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    assert engine.run(rt, admin, "tgt", "SELECT 1").ok
    app_name = target_db.application_name(admin.username, admin.session_id)
    ((pid, _, _),) = target.activity(app_name)
    target.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_for(lambda: not target.activity(app_name))
    assert engine.run(rt, admin, "tgt", "SELECT 1").ok


def test_per_user_cap_gives_a_clear_busy_error(
    rt: Runtime, admin, make_user, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    tune(rt, max_connections_per_user=1, pool_timeout_s=1.0, statement_timeout_ms=3000)
    thread, _ = _in_thread(engine.run, rt, admin, "tgt", SLEEP)
    app_name = target_db.application_name(admin.username, admin.session_id)
    wait_for(lambda: _active(target, app_name))
    started = time.monotonic()
    with pytest.raises(Unavailable, match="busy"):
        engine.run(rt, admin, "tgt", "SELECT 1")
    assert time.monotonic() - started < 2.5
    assert len(target.activity(app_name)) == 1
    # Another user has a pool of their own.
    other = make_user("otto", "analyst")
    assert engine.run(rt, other, "tgt", "SELECT 1").ok
    thread.join(10)
    assert engine.run(rt, admin, "tgt", "SELECT 1").ok
    outcomes = [r["outcome"] for r in runs(meta_url)]
    assert outcomes.count("error") == 1 and outcomes.count("timeout") == 1


@pytest.fixture
def deaf_port() -> Iterator[int]:
    """A local TCP port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for sock in held:
        sock.close()
    server.close()


def test_connect_timeout_to_a_deaf_port(rt: Runtime, admin, deaf_port: int, meta_url: str) -> None:  # type: ignore[no-untyped-def]
    tune(rt, connect_timeout_s=2)
    connections.add(rt, admin, "deaf", f"postgresql://u:pw@127.0.0.1:{deaf_port}/db")
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"could not connect within 2 s") as info:
        engine.run(rt, admin, "deaf", "SELECT 1")
    assert time.monotonic() - started < 2 + 1
    assert "pw" not in info.value.message
    assert [r["outcome"] for r in runs(meta_url)] == ["error"]
    engine.close(rt)


def test_rows_are_untouched_by_every_fault(target: Target) -> None:
    assert target.table() == SEED
