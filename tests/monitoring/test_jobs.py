"""The job runner on a real store: leases, one run per interval across instances, run records.

Two schedulers on one store stand for two processes (each has its own instance name, as two
processes would); the process-level tests (real workers, SIGKILL of the leader) are in
tests/cli/test_worker.py.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import Unavailable
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import health, jobs
from petcare_dba.services.monitoring.scheduler import Job, Scheduler
from petcare_dba.services.runtime import Runtime
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_ui import sign_in


def _job_runs(meta_url: str, job: str) -> list[tuple[str, float, bool | None]]:
    """(instance, started epoch, ok) of each run of `job`, oldest first (as the superuser)."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT instance, extract(epoch FROM started_at)::float8, ok "
            "FROM petcare.job_runs WHERE job = %s ORDER BY id",
            (job,),
        ).fetchall()
    return [(str(i), float(s), o) for i, s, o in rows]


class Counter:
    """A job body that counts its calls per scheduler and can be told to fail."""

    def __init__(self, seconds: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self.seconds = seconds
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, rt: Runtime) -> int:
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        if self.fail:
            raise Unavailable("the probe is down")
        return self.calls


@pytest.mark.slow
def test_two_instances_run_a_job_once_per_interval_and_hand_over_on_stop(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    body = Counter()
    interval = 1.0
    a = Scheduler(rt, [Job("probe", interval, body)], lease_s=1.5)
    b = Scheduler(rt, [Job("probe", interval, body)], lease_s=1.5)
    a.start()
    b.start()
    try:
        time.sleep(4.3)
        runs = _job_runs(meta_url, "probe")
        # one leader runs it: at most one run per interval in the window, never two at once
        assert 3 <= len(runs) <= 6, runs
        assert len({r[0] for r in runs}) == 1, runs
        starts = [r[1] for r in runs]
        assert all(b2 - b1 >= interval - 0.01 for b1, b2 in itertools.pairwise(starts))
        leader = a if runs[0][0] == a.instance else b
        other = b if leader is a else a
        assert leader.stop(5)  # a clean stop releases the lease: the other takes over at once
        stopped_at = time.time()
        deadline = time.monotonic() + interval + other.tick_s + 2
        while time.monotonic() < deadline:
            taken = [r for r in _job_runs(meta_url, "probe") if r[0] == other.instance]
            if taken:
                break
            time.sleep(0.1)
        assert taken, "the other instance did not take the job over"
        assert taken[0][1] - stopped_at < interval + other.tick_s + 1
    finally:
        a.stop(5)
        b.stop(5)
    assert all(ok is True for _, _, ok in _job_runs(meta_url, "probe"))


def test_a_failing_job_is_recorded_and_health_shows_it(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    fast = rt.settings.with_overrides(
        monitoring_enabled=False, jobs_lease_s=1.0, jobs_reconcile_interval_s=1
    )
    rt.settings = fast
    scheduler = Scheduler(rt, [Job("broken", 1.0, Counter(fail=True))], lease_s=1.0)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not _job_runs(meta_url, "broken") or _job_runs(meta_url, "broken")[0][2] is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        status = {s.name: s for s in jobs.status(rt)}["broken"]
        assert status.last_ok is False and status.last_error == "the probe is down"
        assert status.leader == scheduler.instance and status.failures_1h >= 1
    finally:
        scheduler.stop(5)
    status = {s.name: s for s in jobs.status(rt)}["broken"]
    assert status.leader is None  # released at stop
    # /metrics reads the same rows: the failed run shows as last_ok 0 and one failure.
    gauges = {
        (f.name, s.labels["job"]): s.value for f in jobs.metric_families(rt) for s in f.samples
    }
    assert gauges[("petcare_job_last_ok", "broken")] == 0.0
    assert gauges[("petcare_job_failures_last_hour", "broken")] >= 1
    assert ("petcare_job_lag_seconds", "broken") in gauges


def test_the_job_table_runs_from_start_and_health_reports_each_job(
    rt: Runtime, admin: Actor
) -> None:
    rt.settings = rt.settings.with_overrides(
        monitoring_interval_s=1, jobs_lease_s=1.0, advisor_interval_minutes=0
    )
    report = health.check(rt, None)
    component = next(c for c in report.components if c.name == "jobs")
    assert not component.ok and "never run" in component.detail
    jobs.start(rt)
    try:
        expected = {"sampling", "reconcile", "audit_chain", "retention"}
        deadline = time.monotonic() + 15
        while True:
            seen = {s.name for s in jobs.status(rt) if s.last_ok}
            if expected <= seen:
                break
            assert time.monotonic() < deadline, jobs.status(rt)
            time.sleep(0.2)
        component = next(c for c in health.check(rt, None).components if c.name == "jobs")
        assert component.ok, component.detail
        by_name = {j["name"]: j for j in component.data["jobs"]}
        assert by_name["sampling"]["leader"] and by_name["sampling"]["lag_s"] < 2
        assert by_name["sampling"]["last_finished"] is not None
    finally:
        assert jobs.stop(rt, 10)
    # The app-wide sampling round ran without any browser session.
    with rt.store.tx(admin.identity) as tx:
        assert tx.value("mon_app_last_sample") is not None


@pytest.mark.parametrize("lease_s", [0.5])
def test_leases_are_not_taken_from_a_live_leader(rt: Runtime, admin: Actor, lease_s: float) -> None:
    a = Scheduler(rt, [Job("x", 60, Counter())], lease_s=lease_s)
    b = Scheduler(rt, [Job("x", 60, Counter())], lease_s=lease_s)
    assert a.renew() == {"x": pytest.approx(0, abs=0.1)}
    assert b.renew() == {}  # a's lease is live
    time.sleep(lease_s + 0.1)
    assert set(b.renew()) == {"x"}  # expired: b takes it
    assert a.renew() == {}


@pytest.mark.slow
def test_the_settings_page_shows_each_jobs_leader_last_run_and_lag(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor
) -> None:
    scheduler = Scheduler(rt, [Job("probe", 60, Counter())], lease_s=30)
    assert "probe" in scheduler.renew()
    assert scheduler.run_once(scheduler.jobs[0]) is not None
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    tables = [df.value for df in at.dataframe]
    jobs_table = next(t for t in tables if "Job" in t.columns)  # the grid's English headers
    row = jobs_table[jobs_table["Job"] == "probe"].iloc[0]
    assert row["Leader"] == scheduler.instance and bool(row["OK"])  # a checkbox, not "True"
    assert float(row["Lag (s)"]) == 0.0 and row["Last finished"]
    assert "Background jobs" in [s.value for s in at.subheader]
