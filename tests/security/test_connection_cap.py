"""Every target connection counts against the per-user cap (reliability F7), whichever feature
opens it: with max_connections_per_user=3 and three engine runs in flight, an explorer read, an
assistant context read, completions, a monitoring drill-down, a connection test, an index
what-if and a backup each wait and fail "busy", and the user never holds more than three
backends (counted by application_name in pg_stat_activity). Before this, a viewer held 12.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from petcare_dba.errors import Unavailable
from petcare_dba.services import backups, connections, explorer, monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import indexes
from petcare_dba.services.assistant import context
from petcare_dba.services.explorer import completions
from petcare_dba.services.monitoring import catalog
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, target, tune, wait_for

__all__ = ["target"]

SLEEP = "SELECT pg_sleep(30)"


def _backends(t: Target, user: str) -> int:
    rows = t.rows(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
        (f"petcare-dba/{user}/%",),
    )
    return int(rows[0][0])


class Held:
    """Three engine runs in flight; `release()` cancels them and waits for them to end."""

    def __init__(self, threads: list[threading.Thread], handles: list[engine.CancelHandle]) -> None:
        self.threads, self.handles = threads, handles

    def release(self) -> None:
        for handle in self.handles:
            engine.cancel(handle)
        for thread in self.threads:
            thread.join(15)


def _hold_three(rt: Runtime, actor: Actor, t: Target) -> Held:
    handles = [engine.new_handle() for _ in range(3)]
    threads = [
        threading.Thread(
            target=engine.run, args=(rt, actor, "tgt", SLEEP), kwargs={"handle": h}, daemon=True
        )
        for h in handles
    ]
    for thread in threads:
        thread.start()
    wait_for(
        lambda: (
            len(
                t.rows(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE %s "
                    "AND state = 'active'",
                    (f"petcare-dba/{actor.username}/%",),
                )
            )
            == 3
        )
    )
    return Held(threads, handles)


def _busy(t: Target, actor: Actor, attempts: dict[str, Callable[[], object]]) -> None:
    peak = 0
    for name, attempt in attempts.items():
        started = time.monotonic()
        with pytest.raises(Unavailable, match="busy") as info:
            attempt()
        assert "max_connections_per_user=3" in info.value.message, name
        assert time.monotonic() - started < 2.5, f"{name} waited too long"
        peak = max(peak, _backends(t, actor.username))
    assert peak == 3


def test_a_viewer_never_holds_more_backends_than_the_cap(
    rt: Runtime, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    tune(rt, max_connections_per_user=3, pool_timeout_s=1.0, statement_timeout_ms=20000)
    viewer = make_user("vera", "viewer")
    conn = connections.get(rt, viewer, "tgt")
    held = _hold_three(rt, viewer, target)
    _busy(
        target,
        viewer,
        {
            "explorer": lambda: explorer.discover(rt, viewer, "tgt", refresh=True),
            "explorer table": lambda: explorer.describe(rt, viewer, "tgt", "public", "t"),
            "assistant context": lambda: context.describe(rt, viewer, conn, ["public.t"], "schema"),
            "completions": lambda: completions.completions(rt, viewer, "tgt"),
            "catalog": lambda: catalog.list_tables(rt, viewer, "tgt"),
            "monitoring": lambda: monitoring.sessions(rt, viewer, "tgt"),
            "engine": lambda: engine.run(rt, viewer, "tgt", "SELECT 1"),
        },
    )
    check = connections.check(rt, viewer, "tgt")  # a connection test reports, never raises
    assert not check.ok and "busy" in (check.error or "")
    held.release()
    # Slots come back: the same reads now work.
    assert explorer.discover(rt, viewer, "tgt", refresh=True).relations
    assert context.describe(rt, viewer, conn, ["public.t"], "schema")
    assert connections.check(rt, viewer, "tgt").ok


def test_backups_and_the_index_what_if_count_too(rt: Runtime, make_user, target: Target) -> None:  # type: ignore[no-untyped-def]
    tune(rt, max_connections_per_user=3, pool_timeout_s=1.0, statement_timeout_ms=20000)
    dba = make_user("dora", "dba")
    held = _hold_three(rt, dba, target)
    _busy(
        target,
        dba,
        {
            "backup": lambda: backups.backup(rt, dba, "tgt", "public", "t"),
            "index what-if": lambda: indexes.suggest(rt, dba, "tgt"),
        },
    )
    held.release()
    entry = backups.backup(rt, dba, "tgt", "public", "t")
    assert entry.row_count == 3


def test_other_users_have_their_own_slots(rt: Runtime, make_user, target: Target) -> None:  # type: ignore[no-untyped-def]
    tune(rt, max_connections_per_user=3, pool_timeout_s=1.0, statement_timeout_ms=20000)
    viewer, other = make_user("vera", "viewer"), make_user("otto", "viewer")
    held = _hold_three(rt, viewer, target)
    assert explorer.discover(rt, other, "tgt", refresh=True).relations
    held.release()
