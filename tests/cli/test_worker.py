"""`petcare-dba worker` as real processes: two workers share one store, the leader dies by SIGKILL.

Each job runs once per interval across both workers (counted in job_runs), the survivor takes the
jobs over within a lease plus an interval, and SIGTERM / SIGINT end a worker with exit 0 within
shutdown_timeout_s, its leases released.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.services.actor import Actor
from tests.fix_db import process_env

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "petcare_dba.cli"]
INTERVAL = 1.0
LEASE = 1.5
BOUND = 8.0


def worker_env(settings: settings_mod.Settings, **extra: str) -> dict[str, str]:
    """The test store's settings with short intervals, for a worker or `up` process."""
    return {
        **process_env(settings),
        "PETCARE_MONITORING_INTERVAL_S": str(int(INTERVAL)),
        "PETCARE_JOBS_LEASE_S": str(LEASE),
        "PETCARE_JOBS_RECONCILE_INTERVAL_S": "1",
        "PETCARE_ADVISOR_INTERVAL_MINUTES": "0",
        "PETCARE_SHUTDOWN_TIMEOUT_S": str(BOUND),
        **extra,
    }


class Command:
    """One `petcare-dba COMMAND` process; its output goes to a file (no pipe to fill)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [*CLI, *args], env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int) -> tuple[int, float]:
        """Send `sig`; the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=BOUND + 15)
        return code, time.monotonic() - started

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


class Worker(Command):
    """`petcare-dba worker`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(["worker"], env, log)

    @property
    def instance_prefix(self) -> str:
        return f":{self.proc.pid}:"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for w in started:
        w.close()


def runs(meta_url: str, job: str) -> list[tuple[str, float]]:
    """(instance, started epoch) of each run of `job`, oldest first."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT instance, extract(epoch FROM started_at)::float8 FROM petcare.job_runs "
            "WHERE job = %s ORDER BY id",
            (job,),
        ).fetchall()
    return [(str(i), float(s)) for i, s in rows]


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_two_workers_run_each_job_once_per_interval_and_the_survivor_takes_over(
    test_settings: settings_mod.Settings,
    admin: Actor,
    meta_url: str,
    tmp_path: Path,
    workers: list[Worker],
) -> None:
    env = worker_env(test_settings)
    workers += [Worker(env, tmp_path / "a.log"), Worker(env, tmp_path / "b.log")]
    wait_for(lambda: all("worker " in w.output() for w in workers), 60, "both workers to start")
    window_start = time.time()
    time.sleep(5 * INTERVAL + 0.3)
    sampling = [r for r in runs(meta_url, "sampling") if r[1] >= window_start]
    # Once per interval across both workers: about 5 runs in 5 intervals, never two at once.
    assert 4 <= len(sampling) <= 6, sampling
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(sampling)]
    assert min(gaps) >= INTERVAL - 0.01, gaps
    leaders = {i for i, _ in sampling}
    assert len(leaders) == 1, leaders
    (leader_instance,) = leaders
    leader = next(w for w in workers if w.instance_prefix in leader_instance)
    survivor = next(w for w in workers if w is not leader)
    for job in ("reconcile", "audit_chain", "retention"):
        assert runs(meta_url, job), f"{job} never ran"
    # Every run is recorded with its end and outcome.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        failed = conn.execute(
            "SELECT job, error FROM petcare.job_runs WHERE ok IS DISTINCT FROM true "
            "AND finished_at IS NOT NULL"
        ).fetchall()
    assert failed == [], failed

    os.kill(leader.proc.pid, signal.SIGKILL)
    killed_at = time.time()
    leader.proc.wait(10)
    taken = wait_for(
        lambda: [
            r
            for r in runs(meta_url, "sampling")
            if survivor.instance_prefix in r[0] and r[1] > killed_at
        ],
        LEASE + INTERVAL + 10,
        "the survivor to take sampling over",
    )
    # The dead leader's lease expires (LEASE) and the survivor's keeper (every LEASE/3) takes
    # it; the run is due at most one interval after the dead leader's last run.
    assert taken[0][1] - killed_at <= LEASE + LEASE / 3 + INTERVAL + 1.0, taken

    code, took = survivor.stop(signal.SIGTERM)
    assert code == 0, survivor.output()
    assert took < BOUND, took
    assert "worker stopped" in survivor.output()
    with psycopg.connect(meta_url, autocommit=True) as conn:
        held = conn.execute(
            "SELECT job FROM petcare.job_leases WHERE holder LIKE %s AND expires_at > now()",
            (f"%{survivor.instance_prefix}%",),
        ).fetchall()
        open_runs = conn.execute(
            "SELECT count(*) FROM petcare.job_runs WHERE instance LIKE %s AND finished_at IS NULL",
            (f"%{survivor.instance_prefix}%",),
        ).fetchone()
    assert held == [] and open_runs == (0,)  # leases released, no run left open


def test_sigint_stops_a_worker_and_health_shows_each_job(
    test_settings: settings_mod.Settings,
    admin: Actor,
    meta_url: str,
    tmp_path: Path,
    workers: list[Worker],
) -> None:
    env = worker_env(test_settings)
    workers.append(Worker(env, tmp_path / "w.log"))
    wait_for(lambda: runs(meta_url, "sampling"), 60, "a sampling run")
    health = subprocess.run(
        [*CLI, "health", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(health.stdout)
    jobs = next(c for c in report["components"] if c["name"] == "jobs")
    by_name = {j["name"]: j for j in jobs["data"]["jobs"]}
    assert {"sampling", "reconcile", "audit_chain", "retention"} <= set(by_name), by_name
    assert workers[0].instance_prefix in by_name["sampling"]["leader"]
    assert by_name["sampling"]["last_started"] and by_name["sampling"]["lag_s"] < 2 * INTERVAL
    code, took = workers[0].stop(signal.SIGINT)
    assert code == 0 and took < BOUND, workers[0].output()
