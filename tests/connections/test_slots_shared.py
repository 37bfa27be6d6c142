"""The per-user cap holds across instances (issue 18): two runtimes on one store share it.

Instance A is `rt`, instance B a second runtime on the same metadata store; a third instance is a
real child process killed with SIGKILL, whose slots must come free without any expiry to wait
for. Every feature takes its slot through `connections.slots.hold` or the engine's pools (both
are the runtime's `Slots`), so holding slots through `slots.hold` on one instance makes the
engine on the other wait and say "busy".
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.db.shared_slots import SharedSlots
from petcare_dba.errors import Unavailable
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import slots
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_cache import second, start_instance, wait_until
from tests.fix_db import process_env
from tests.fix_engine import Target, target, tune

__all__ = ["second", "start_instance", "target"]

CHILD = """
import sys, time
from petcare_dba import settings
from petcare_dba.services.connections import slots
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
rt = Runtime.start(settings.load())
actor = users.actor_for(rt, None)
with slots.hold(rt, actor, int(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def pair(rt: Runtime, second: Runtime) -> Iterator[tuple[Runtime, Runtime]]:
    for instance in (rt, second):
        tune(instance, max_connections_per_user=2, pool_timeout_s=0.3)
    yield rt, second


def test_the_cap_holds_across_two_instances(
    pair: tuple[Runtime, Runtime],
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    target: Target,
) -> None:
    a, b = pair
    other = make_user("otto", "analyst")
    conn_id = connections.get(a, admin, target.name).id
    with ExitStack() as stack:
        stack.enter_context(slots.hold(a, admin, conn_id))
        stack.enter_context(slots.hold(b, admin, conn_id))
        # Each instance alone is under its cap; together they are at it.
        with pytest.raises(Unavailable, match="across the app's instances"):
            engine.run(b, admin, target.name, "SELECT 1")
        with pytest.raises(Unavailable, match="busy"):
            explorer.discover(a, admin, target.name, refresh=True)
        # The cap is per user: another user still has slots of their own.
        assert engine.run(b, other, target.name, "SELECT 1").error is None
    # Given back: both instances work again.
    assert engine.run(b, admin, target.name, "SELECT 1").error is None
    assert explorer.discover(a, admin, target.name, refresh=True).get("public", "t")


def test_a_slot_waits_for_one_given_back_on_the_other_instance(
    pair: tuple[Runtime, Runtime], admin: Actor, target: Target
) -> None:
    a, b = pair
    tune(b, pool_timeout_s=10.0)
    conn_id = connections.get(a, admin, target.name).id
    release = threading.Event()

    def hold_on_a() -> None:
        with slots.hold(a, admin, conn_id):
            release.wait(10)

    holders = [threading.Thread(target=hold_on_a) for _ in range(2)]
    for h in holders:
        h.start()
    wait_until(lambda: a.target_slots.shared.held() == 2, 5.0, "A holds two")  # type: ignore[union-attr]
    threading.Timer(0.2, release.set).start()
    assert engine.run(b, admin, target.name, "SELECT 1").error is None  # waited, then ran
    for h in holders:
        h.join(5)


def test_a_given_back_slot_lingers_for_its_instance_then_frees_for_the_others(
    pair: tuple[Runtime, Runtime], admin: Actor, target: Target
) -> None:
    """Issue 16: the next statement on the same instance takes the slot with no round trip;
    the user's other instances see it free at most slot_linger_s later (their wait absorbs it)."""
    a, b = pair
    for instance in pair:
        tune(instance, max_connections_per_user=1, pool_timeout_s=0.2)
    conn_id = connections.get(a, admin, target.name).id
    shared = a.target_slots.shared
    assert isinstance(shared, SharedSlots)
    with slots.hold(a, admin, conn_id):
        pass
    assert shared.held() == 0  # given back: not in use, though still locked for a moment
    with slots.hold(a, admin, conn_id):  # A again: the lingering slot
        with pytest.raises(Unavailable, match="across the app's instances"):
            with slots.hold(b, admin, conn_id):
                pass
    given_back = time.monotonic()
    wait_until(lambda: _advisory_locks(a) == 0, shared.linger_s + 2.0, "the sweeper unlocks it")
    assert time.monotonic() - given_back < shared.linger_s + 2.0
    with slots.hold(b, admin, conn_id):  # B now: free
        assert b.target_slots.shared.held() == 1  # type: ignore[union-attr]


def _advisory_locks(rt: Runtime) -> int:
    """Advisory locks held by the instance's slot session, read as the store's superuser."""
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND a.application_name = 'petcare-dba/slots' "
            "AND a.datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_a_killed_instance_frees_its_slots(
    rt: Runtime, test_settings: settings_mod.Settings, admin: Actor, target: Target
) -> None:
    tune(rt, max_connections_per_user=1, pool_timeout_s=0.2)
    conn_id = connections.get(rt, admin, target.name).id
    env = {**process_env(test_settings), "PETCARE_MAX_CONNECTIONS_PER_USER": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(conn_id)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(Unavailable, match="busy"):
            engine.run(rt, admin, target.name, "SELECT 1")
        child.kill()  # SIGKILL: no clean-up code runs in the child
        child.wait(10)

        def runs() -> bool:
            try:
                return engine.run(rt, admin, target.name, "SELECT 1").error is None
            except Unavailable:
                return False

        took = wait_until(runs, 10.0, "the killed instance's slot is free")
        assert took < 10.0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
