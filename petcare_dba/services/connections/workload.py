"""A light simulated clinic day on the demo database, so a fresh install shows something real.

`petcare-dba up` starts a `Workload` on the demo database `petcare` (setting `demo_workload`, on
by default, and only ever for the demo: no other connection is touched) beside its background
jobs, and stops it on shutdown. Through its own two sessions (application_name `petcare demo
clinic`) it sends, at `demo_workload_rate` statements per second, what a clinic's front desk and
manager do (sql/workload.sql): open the agenda, book a visit, check a patient in and invoice
the visit, take a payment, read the revenue report; now and then a slow report over the whole
history, and a lock wait (one session holds a clinic row a few seconds in an open transaction
while the other updates it). Monitoring › Queries, Activity, the blocking tree, the advisor and
alerts therefore have data within a minute. It is cheap by design: one statement at a time, a
few milliseconds each, the slow report (~0.3 s at scale 1) once every `slow_every_s`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from petcare_dba.db.workload import WorkloadSession
from petcare_dba.errors import NotFound, PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import credentials
from petcare_dba.services.connections.demo import DEMO_CONNECTION
from petcare_dba.services.runtime import Runtime

log = logging.getLogger(__name__)

APPLICATION_NAME = "petcare demo clinic"
# The everyday mix: what a front desk does most (reads), then bookings and payments.
MIX: tuple[tuple[str, int], ...] = (
    ("workload_agenda", 40),
    ("workload_book", 20),
    ("workload_check_in", 15),
    ("workload_pay", 15),
    ("workload_revenue", 10),
)
METHODS = ("pix", "credit_card", "debit_card", "cash", "boleto")
PETS = 40_000  # pets at scale 1; a higher id simply picks the last pet
CLINICS = 20


@dataclass(frozen=True)
class WorkloadPlan:
    """How much the workload does and when its two episodes (slow report, lock wait) come."""

    rate_per_s: float = 2.0
    slow_every_s: float = 45.0
    lock_every_s: float = 60.0
    first_slow_s: float = 8.0  # the first episodes come early: "alive within a minute"
    first_lock_s: float = 15.0
    lock_hold_s: float = 4.0
    seed: int | None = None


@dataclass(frozen=True)
class WorkloadStats:
    """What the workload has sent so far: statements per name, failures, the latest error."""

    counts: dict[str, int] = field(hash=False)
    errors: int
    last_error: str | None


class Workload:
    """The simulated clinic on one database URL; `start()`, then `stop()` from any thread."""

    def __init__(self, url: str, plan: WorkloadPlan | None = None) -> None:
        self.url = url
        self.plan = plan or WorkloadPlan()
        self._random = random.Random(self.plan.seed)  # noqa: S311 - a simulation, not secrets
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._errors = 0
        self._last_error: str | None = None
        self._desk: WorkloadSession | None = None
        self._manager: WorkloadSession | None = None
        self._threads: list[threading.Thread] = []

    # -- sessions --------------------------------------------------------------------------
    def _session(self) -> WorkloadSession:
        hold_ms = int(self.plan.lock_hold_s * 1000)
        return WorkloadSession(
            self.url,
            APPLICATION_NAME,
            lock_timeout_ms=hold_ms + 5000,
            statement_timeout_ms=30_000,
        )

    def _note(self, name: str, ok: bool, error: str | None = None) -> None:
        with self._lock:
            if ok:
                self._counts[name] += 1
            else:
                self._errors += 1
                self._last_error = error

    def _params(self) -> dict[str, object]:
        r = self._random
        return {
            "clinic": r.randint(1, CLINICS),
            "pet": r.randint(1, PETS),
            "hours": r.randint(1, 47),
            "method": r.choice(METHODS),
            "reason": "-",
        }

    # -- the loop ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the sessions in the background and start sending statements."""
        loop = threading.Thread(target=self._loop, name="petcare-demo-workload", daemon=True)
        self._threads = [loop]
        loop.start()

    def _loop(self) -> None:
        started = time.monotonic()
        next_slow = started + self.plan.first_slow_s
        next_lock = started + self.plan.first_lock_s
        names = [n for n, _ in MIX]
        weights = [w for _, w in MIX]
        while not self._stop.is_set():
            try:
                if self._desk is None:
                    self._desk = self._session()
                now = time.monotonic()
                if now >= next_lock:
                    next_lock = now + self.plan.lock_every_s
                    self._lock_episode()
                elif now >= next_slow:
                    next_slow = now + self.plan.slow_every_s
                    self._send(self._desk, "workload_slow_report")
                else:
                    self._send(self._desk, self._random.choices(names, weights)[0])
            except PetcareError as exc:  # the server restarts, the demo is rebuilt: back off
                self._note("", False, exc.message)
                log.warning("demo workload: %s", exc.message)
                self._close_sessions()
                self._stop.wait(5.0)
                continue
            # Jittered pacing: a steady rate without a metronome's spikes.
            self._stop.wait(self._random.expovariate(self.plan.rate_per_s))
        self._close_sessions()

    def _send(self, session: WorkloadSession, name: str) -> None:
        try:
            session.run(name, self._params())
        except PetcareError as exc:
            if self._stop.is_set():
                return  # cancelled by stop(): not a failure
            if exc.sqlstate in ("55P03", "57014", "23505", "40P01"):
                self._note(name, False, exc.message)  # an expected clash of a busy clinic
                return
            raise
        self._note(name, True)

    def _lock_episode(self) -> None:
        """The manager holds a clinic row in an open transaction; the front desk waits for it."""
        if self._manager is None:
            self._manager = self._session()
        manager, clinic = self._manager, self._random.randint(1, CLINICS)
        held = threading.Event()

        def hold() -> None:
            try:
                held.set()
                manager.hold(
                    "workload_lock_hold", {"clinic": clinic}, self.plan.lock_hold_s, self._stop
                )
                self._note("workload_lock_hold", True)
            except PetcareError as exc:
                self._note("workload_lock_hold", False, exc.message)

        holder = threading.Thread(target=hold, name="petcare-demo-workload-lock", daemon=True)
        self._threads.append(holder)
        holder.start()
        held.wait(2.0)
        self._stop.wait(0.3)  # the holder's UPDATE lands first
        if self._desk is not None and not self._stop.is_set():
            self._send_clinic(self._desk, clinic)
        holder.join(self.plan.lock_hold_s + 5.0)
        self._threads.remove(holder)

    def _send_clinic(self, session: WorkloadSession, clinic: int) -> None:
        try:
            session.run("workload_lock_wait", {"clinic": clinic})
            self._note("workload_lock_wait", True)
        except PetcareError as exc:
            if not self._stop.is_set():
                self._note("workload_lock_wait", False, exc.message)

    def _close_sessions(self) -> None:
        for session in (self._desk, self._manager):
            if session is not None:
                session.close()
        self._desk = self._manager = None

    # -- control -------------------------------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> bool:
        """Stop sending, cancel what runs, close the sessions; False if a thread outlived it."""
        self._stop.set()
        for session in (self._desk, self._manager):
            if session is not None:
                session.cancel()
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def stats(self) -> WorkloadStats:
        with self._lock:
            return WorkloadStats(dict(self._counts), self._errors, self._last_error)


def start_for_demo(rt: Runtime, actor: Actor) -> Workload | None:
    """Start the workload on the demo connection when `demo_workload` is on; stops with `rt`.

    None when the setting is off or there is no demo connection. Only the demo database is
    ever used: the URL is the one `connections.demo` registered.
    """
    s = rt.settings
    if not s.demo_workload:
        return None
    try:
        url = credentials.resolve_url(rt, actor, DEMO_CONNECTION)
    except NotFound:
        return None
    workload = Workload(url, WorkloadPlan(rate_per_s=float(s.demo_workload_rate)))
    workload.start()

    def close() -> None:
        workload.stop(timeout=min(5.0, float(s.shutdown_timeout_s)))

    rt.closers.append(close)
    return workload
