"""The job runner: each background job leader-elected by a lease row, each run recorded.

A `Scheduler` runs a table of `Job`s (name, interval, function of the runtime) for one process:
`petcare-dba worker`, or `petcare-dba up` from its start. One keeper thread takes or renews the
lease of every job in one statement every third of `jobs_lease_s` (migration 0023: a lease row,
not a session advisory lock, because a lease survives a transaction pooler and names its leader
for health); one thread per job waits for the job's due time, claims the run in the statement
that checks the lease and moves the due time one interval on (so a job runs once per interval
however many instances try), runs it and records how it ended. A dead leader's lease expires and
another instance's keeper takes it; a clean `stop` releases the leases at once and marks the
runs it had to abandon as interrupted. Jobs act as the first admin (`samples.system_actor`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from petcare_dba.db.metastore import Identity
from petcare_dba.errors import PetcareError
from petcare_dba.services.monitoring.samples import system_actor
from petcare_dba.services.observability import metrics
from petcare_dba.services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One background job: run `run(rt)` every `interval_s` seconds on one instance at a time.

    What `run` returns (a count, a dict, None) is stored as the run's detail.
    """

    name: str
    interval_s: float
    run: Callable[[Runtime], object]


def instance_name() -> str:
    """host:pid:random — the random part tells apart two schedulers of one process (tests)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _detail(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bool, int, float, str)):
        value = {"result": value}
    try:
        return json.dumps(value, default=str)[:4000]
    except (TypeError, ValueError):
        return json.dumps({"result": str(value)[:2000]})


class Scheduler:
    """Runs a job table for one runtime; `start()`, then `stop(timeout)` from any thread."""

    def __init__(self, rt: Runtime, jobs: Sequence[Job], *, lease_s: float | None = None) -> None:
        self.rt = rt
        self.jobs = sorted(jobs, key=lambda j: j.name)  # one lock order for every instance
        self.lease_s = float(lease_s if lease_s is not None else rt.settings.jobs_lease_s)
        self.tick_s = max(0.1, self.lease_s / 3)
        self.instance = instance_name()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # the keeper learned new due times
        self._due: dict[str, float] = {}  # monotonic due time of each job this instance leads
        self._running: set[str] = set()
        self._identity: Identity | None = None
        self._threads: list[threading.Thread] = []
        self.last_error: str | None = None

    # -- the metadata store ----------------------------------------------------------------
    def _tx(self) -> Any:
        if self._identity is None:
            self._identity = system_actor(self.rt).identity  # NotFound until an admin exists
        return self.rt.store.tx(self._identity)

    def renew(self) -> dict[str, float]:
        """Take or keep every job's lease; the jobs led, with seconds until each is due."""
        with self._tx() as tx:
            rows = tx.all(
                "jobs_leases_renew",
                {
                    "me": self.instance,
                    "lease_s": self.lease_s,
                    "jobs": [j.name for j in self.jobs],
                    "intervals": [float(j.interval_s) for j in self.jobs],
                },
            )
        return {r["job"]: float(r["due_in_s"]) for r in rows}

    def run_once(self, job: Job) -> int | None:
        """Claim and run `job` if this instance leads it and it is due; the run id or None."""
        with self._tx() as tx:
            run_id = tx.value(
                "jobs_run_start",
                {"job": job.name, "me": self.instance, "interval_s": float(job.interval_s)},
            )
        if run_id is None:
            return None
        ok, error, detail = True, None, None
        started = time.monotonic()
        try:
            detail = _detail(job.run(self.rt))
        except PetcareError as exc:
            ok, error = False, exc.message
        except Exception as exc:  # a job's bug must not stop the runner; it is on record
            ok, error = False, f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job.name)
        metrics.job_finished(job.name, ok, time.monotonic() - started)
        with self._tx() as tx:
            tx.execute(
                "jobs_run_finish", {"id": run_id, "ok": ok, "error": error, "detail": detail}
            )
        return int(run_id)

    def release(self) -> None:
        """Give up this instance's leases and close the runs it abandoned."""
        if self._identity is None:
            return
        with self._tx() as tx:
            tx.execute("jobs_release", {"me": self.instance})

    # -- threads ------------------------------------------------------------------------------
    def start(self) -> None:
        keeper = threading.Thread(target=self._keep, name="petcare-jobs-keeper", daemon=True)
        self._threads = [keeper] + [
            threading.Thread(
                target=self._work, args=(j,), name=f"petcare-job-{j.name}", daemon=True
            )
            for j in self.jobs
        ]
        for thread in self._threads:
            thread.start()

    def _keep(self) -> None:
        while not self._stop.is_set():
            try:
                led = self.renew()
                self.last_error = None
            except PetcareError as exc:  # store down, no admin yet: try again next tick
                led = {}
                self.last_error = exc.message
                log.warning("job leases not renewed: %s", exc.message)
            now = time.monotonic()
            with self._changed:
                self._due = {name: now + max(0.0, due) for name, due in led.items()}
                self._changed.notify_all()
            self._stop.wait(self.tick_s)

    def _work(self, job: Job) -> None:
        while not self._stop.is_set():
            with self._changed:
                due = self._due.get(job.name)
                delay = self.tick_s if due is None else due - time.monotonic()
                if delay > 0:  # until due, or until the keeper knows more (or stop)
                    self._changed.wait(min(delay + 0.02, self.tick_s))
                    continue
            with self._lock:
                self._running.add(job.name)
            claimed_at = time.monotonic()
            try:
                ran = self.run_once(job)
            except PetcareError as exc:
                ran, self.last_error = None, exc.message
                log.warning("job %s not run: %s", job.name, exc.message)
            finally:
                with self._lock:
                    self._running.discard(job.name)
            with self._lock:  # until the keeper's next renewal says otherwise
                if job.name in self._due:
                    # the store moved the due time one interval past the claim; a claim that
                    # found the job not yet due (clocks a hair apart) tries again shortly
                    self._due[job.name] = (
                        claimed_at + float(job.interval_s) + 0.05
                        if ran is not None
                        else time.monotonic() + min(self.tick_s, 0.25)
                    )

    def running(self) -> set[str]:
        """The jobs this instance is running right now."""
        with self._lock:
            return set(self._running)

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop taking runs, wait up to `timeout` for running ones, release the leases.

        False when a run was still going at the deadline (its thread is a daemon and dies with
        the process; its record says 'interrupted').
        """
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        finished = not any(t.is_alive() for t in self._threads)
        try:
            self.release()
        except PetcareError as exc:
            log.warning("job leases not released: %s", exc.message)
        return finished
