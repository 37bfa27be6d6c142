"""The demo's simulated clinic workload, run for real on a built demo database for a few seconds.

One module-scoped run (fast plan: both episodes in the first seconds) is watched from a third
session; the tests then read what pg_stat_activity showed during it, what pg_stat_statements
holds after it, and how the stop went.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from petcare_dba.db.demo import build_demo, ensure_stat_statements
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import workload
from petcare_dba.services.connections.workload import APPLICATION_NAME, Workload, WorkloadPlan
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer

pytestmark = pytest.mark.slow

FAST = WorkloadPlan(
    rate_per_s=15.0,
    slow_every_s=3.0,
    lock_every_s=30.0,
    first_slow_s=0.5,
    first_lock_s=1.0,
    lock_hold_s=2.0,
    seed=7,
)


@dataclass
class Observed:
    url: str
    sessions: int = 0
    lock_waits: list[dict[str, Any]] = field(default_factory=list)
    stop_s: float = 0.0
    stopped: bool = False
    after_stop: int = -1
    stats: workload.WorkloadStats | None = None
    extension: bool = False


def _sessions(observer: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    cur = observer.execute(
        "SELECT pid, state, wait_event_type, pg_catalog.pg_blocking_pids(pid) AS blockers, query"
        " FROM pg_catalog.pg_stat_activity"
        " WHERE application_name = %s AND datname = current_database()",
        (APPLICATION_NAME,),
    )
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture(scope="module")
def observed(pg: PgServer) -> Iterator[Observed]:
    name = pg.create_database()
    url = pg.admin_url(name)
    try:
        build_demo(url, 1)
        seen = Observed(url, extension=ensure_stat_statements(url))
        with psycopg.connect(url, autocommit=True) as observer:
            if seen.extension:
                observer.execute("SELECT pg_stat_statements_reset()")  # only this run counts
            load = Workload(url, FAST)
            load.start()
            deadline = time.monotonic() + 6.0
            while time.monotonic() < deadline:
                rows = _sessions(observer)
                seen.sessions = max(seen.sessions, len(rows))
                seen.lock_waits += [
                    r for r in rows if r["wait_event_type"] == "Lock" and r["blockers"]
                ]
                time.sleep(0.1)
            begun = time.monotonic()
            seen.stopped = load.stop(timeout=5.0)
            seen.stop_s = time.monotonic() - begun
            seen.stats = load.stats()
            time.sleep(0.3)  # the backends' exit reaches pg_stat_activity
            seen.after_stop = len(_sessions(observer))
        yield seen
    finally:
        pg.drop_database(name)


def test_the_workload_is_seen_in_pg_stat_activity_and_sends_every_kind(observed: Observed) -> None:
    assert observed.sessions == 2  # front desk and manager
    assert observed.stats is not None
    sent = observed.stats.counts
    for name in ("workload_agenda", "workload_book", "workload_pay", "workload_slow_report"):
        assert sent.get(name, 0) >= 1, (name, sent)
    assert sent.get("workload_lock_hold") == 1 and sent.get("workload_lock_wait") == 1, sent


def test_a_lock_wait_appears_with_its_blocker(observed: Observed) -> None:
    assert observed.lock_waits, "no session of the workload was seen waiting for a lock"
    waiting = observed.lock_waits[0]
    assert "UPDATE public.clinics SET phone" in waiting["query"]
    assert len(waiting["blockers"]) == 1


def test_it_stops_on_request_and_leaves_no_session(observed: Observed) -> None:
    assert observed.stopped and observed.stop_s < 3.0
    assert observed.after_stop == 0


def test_the_demo_gets_pg_stat_statements(observed: Observed) -> None:
    with psycopg.connect(observed.url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements'"
        ).fetchone()
    assert observed.extension and row == (1,)


@pytest.mark.pgss
def test_pg_stat_statements_shows_the_clinic_statements(observed: Observed, pg: PgServer) -> None:
    with psycopg.connect(observed.url, autocommit=True) as conn:
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()
        if "pg_stat_statements" not in str(preload):
            pytest.skip("this server does not preload pg_stat_statements (the embedded one does)")
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements WHERE dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    texts = " ".join(q for q, _ in rows)
    assert "FROM public.appointments AS a" in texts  # agenda / slow report
    assert "INSERT INTO public.payments" in texts
    assert "UPDATE public.clinics SET phone" in texts
    assert sum(c for q, c in rows if "workload" not in q) >= 20


def test_up_starts_it_on_the_demo_connection_only_when_the_setting_is_on(
    rt: Runtime, admin: Actor, observed: Observed
) -> None:
    assert workload.start_for_demo(rt, admin) is None  # no demo connection in this store
    connections.add(rt, admin, "demo", observed.url, shared=True)
    off = dataclasses.replace(rt, settings=rt.settings.with_overrides(demo_workload=False))
    assert workload.start_for_demo(off, admin) is None
    load = workload.start_for_demo(rt, admin)
    assert load is not None and load.running
    assert load.plan.rate_per_s == rt.settings.demo_workload_rate
    assert load.stop(timeout=5.0) and not load.running
