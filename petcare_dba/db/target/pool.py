"""Target connections of the SQL engine: per-user pools and the cancel handle.

`Pools` keeps one small `TargetPool` per (stored connection, app user, URL) capped at
max_connections_per_user (reliability F7); a request beyond the cap waits pool_timeout_s and then
gets a clear "busy" error (F5). Idle connections are reused only by the same application_name
(so `pg_stat_activity` names the right session, Q11), dropped after a minute, and checked without
a round trip: a backend that was terminated while idle is noticed before it is handed out (F3).
`CancelHandle` lets another thread cancel the running statement with libpq's `cancel_safe()`
(Q9), never pg_terminate_backend. At shutdown (SIGTERM to `up`), `Pools.drain` refuses new
checkouts and sends the same cancel to every connection that is running something, until each
run has recorded its outcome ('cancelled') and given its connection back. When a browser tab is
gone, `Pools.release` closes the idle connections named for its session at once, and
`Pools.sweep` closes idle ones past IDLE_TTL_S in pools nobody checks out from any more.

The cap is one `Slots` counter per (stored connection, app user), in `slots`: a pool takes a slot
for each checkout, as every other feature that opens a target connection for a user does.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from petcare_dba.db.liveness import idle_socket_healthy
from petcare_dba.db.target import connect, values
from petcare_dba.db.target.slots import Slot, Slots
from petcare_dba.errors import PetcareError, QueryCancelled, Unavailable
from petcare_dba.messages import say

IDLE_TTL_S = 60.0


def _shutting_down() -> Unavailable:
    """The refusal of new work while `Pools.drain` runs."""
    return Unavailable(say("msg.target.shutting_down"), hint=say("msg.target.shutting_down.hint"))


class CancelHandle:
    """Lets another thread cancel what a run is executing; once cancelled, nothing more starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Send a cancel request for the running statement (PostgreSQL answers 57014)."""
        with self._lock:  # held so the connection cannot go back to the pool meanwhile
            self._cancelled = True
            conn = self._conn
            if conn is not None and not conn.closed:
                try:
                    conn.cancel_safe(timeout=5.0)
                except psycopg.Error:
                    pass  # best effort: the flag still stops the next fetch or statement

    def check(self) -> None:
        """Raise QueryCancelled when cancel() was called."""
        if self._cancelled:
            raise QueryCancelled(say("msg.db.cancelled"), sqlstate="57014")

    @contextmanager
    def attached(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        with self._lock:
            self.check()
            self._conn = conn
        try:
            yield
        finally:
            with self._lock:
                self._conn = None


@dataclass
class Lease:
    """A checked-out target connection; set `discard` when its session state is not clean."""

    conn: psycopg.Connection[Any]
    discard: bool = False


@dataclass
class _Idle:
    app_name: str
    since: float
    conn: psycopg.Connection[Any] = field(repr=False)


class TargetPool:
    """Connections of one app user to one stored connection, at most `max_size` at a time."""

    def __init__(
        self,
        url: str,
        *,
        max_size: int,
        wait_timeout: float,
        connect_timeout: int,
        keepalives: dict[str, int] | None = None,
        slot: Slot | None = None,
    ) -> None:
        self._url = url
        # keepalives_idle/interval/count overrides (settings): a half-open peer is noticed
        # after idle + interval x count seconds instead of the OS's minutes (F2).
        self.keepalives = dict(keepalives or {})
        self.max_size = max(1, max_size)
        self.wait_timeout = wait_timeout
        self.connect_timeout = connect_timeout
        self.slot = slot if slot is not None else Slot(self.max_size)
        self._lock = threading.Lock()
        self._idle: list[_Idle] = []
        self._busy: list[psycopg.Connection[Any]] = []
        self._closed = False
        self.draining = False

    @contextmanager
    def connection(self, app_name: str) -> Iterator[Lease]:
        """Check out a connection tagged `app_name`; 'busy' error after wait_timeout."""
        if self.draining:
            raise _shutting_down()
        with self.slot.held(self.wait_timeout):
            lease = Lease(self._take(app_name) or self._open(app_name))
            with self._lock:
                self._busy.append(lease.conn)
            try:
                yield lease
            finally:
                with self._lock:
                    self._busy.remove(lease.conn)
                self._give_back(app_name, lease)

    def busy(self) -> list[psycopg.Connection[Any]]:
        """The connections checked out right now."""
        with self._lock:
            return list(self._busy)

    def _open(self, app_name: str) -> psycopg.Connection[Any]:
        started = time.monotonic()
        try:
            # values.CONTEXT: exact values or the server's text, never a lossy conversion.
            return connect.connect(
                self._url,
                app_name,
                self.connect_timeout,
                autocommit=True,
                context=values.CONTEXT,
                **self.keepalives,
            )
        except PetcareError as exc:
            if time.monotonic() - started >= self.connect_timeout - 0.5:
                raise Unavailable(
                    say("msg.target.connect_timeout", s=self.connect_timeout),
                    hint=say("msg.target.connect_timeout.hint"),
                ) from exc
            raise

    def _take(self, app_name: str) -> psycopg.Connection[Any] | None:
        now = time.monotonic()
        with self._lock:
            keep: list[_Idle] = []
            found: psycopg.Connection[Any] | None = None
            for idle in self._idle:
                if found is None and idle.app_name == app_name and idle_socket_healthy(idle.conn):
                    found = idle.conn
                elif now - idle.since < IDLE_TTL_S and idle_socket_healthy(idle.conn):
                    keep.append(idle)
                else:
                    idle.conn.close()
            self._idle = keep
        return found

    def _give_back(self, app_name: str, lease: Lease) -> None:
        conn = lease.conn
        clean = (
            not lease.discard
            and not conn.closed
            and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE
        )
        with self._lock:
            if clean and not self._closed:
                self._idle.append(_Idle(app_name, time.monotonic(), conn))
                while len(self._idle) > self.max_size:
                    self._idle.pop(0).conn.close()
                return
        conn.close()

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def close_idle(self, drop: Callable[[_Idle], bool]) -> int:
        """Close the idle connections `drop` picks; how many were closed."""
        with self._lock:
            gone = [idle for idle in self._idle if drop(idle)]
            self._idle = [idle for idle in self._idle if idle not in gone]
        for idle in gone:
            idle.conn.close()
        return len(gone)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for idle in self._idle:
                idle.conn.close()
            self._idle.clear()


class Pools:
    """Every TargetPool of one runtime, keyed by (connection id, user id, URL digest).

    A slot is taken only while a connection is checked out; a pool also keeps at most max_size
    idle connections (closed after IDLE_TTL_S), which hold no slot because they run nothing.
    """

    def __init__(self, slots: Slots | None = None) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[int, int, str], TargetPool] = {}
        self.slots = slots if slots is not None else Slots()
        self.draining = False

    def get(
        self,
        connection_id: int,
        user_id: int,
        url: str,
        *,
        max_size: int,
        wait_timeout: float,
        connect_timeout: int,
        keepalives: dict[str, int] | None = None,
    ) -> TargetPool:
        # The digest makes a changed URL (new password) start a new pool; the URL itself is
        # kept only inside the pool object.
        key = (connection_id, user_id, hashlib.sha256(url.encode()).hexdigest())
        slot = self.slots.get(connection_id, user_id, max_size)
        with self._lock:
            if self.draining:
                raise _shutting_down()
            pool = self._pools.get(key)
            if pool is None or pool.max_size != max(1, max_size) or pool.slot is not slot:
                if pool is not None:
                    pool.close()
                pool = TargetPool(
                    url,
                    max_size=max_size,
                    wait_timeout=wait_timeout,
                    connect_timeout=connect_timeout,
                    keepalives=keepalives,
                    slot=slot,
                )
                self._pools[key] = pool
            pool.wait_timeout = wait_timeout
            if keepalives is not None:
                pool.keepalives = dict(keepalives)
            return pool

    def stats(self) -> dict[str, int]:
        """Counts for /metrics: pools, idle connections kept, connections checked out."""
        with self._lock:
            pools = list(self._pools.values())
        return {
            "pools": len(pools),
            "idle": sum(p.idle_count() for p in pools),
            "in_use": self.slots.in_use(),
        }

    def release(self, user_id: int, app_names: Collection[str]) -> int:
        """Close the user's idle connections named `app_names` (their session ended)."""
        with self._lock:
            pools = [pool for key, pool in self._pools.items() if key[1] == user_id]
        return sum(pool.close_idle(lambda idle: idle.app_name in app_names) for pool in pools)

    def sweep(self) -> int:
        """Close every idle connection older than IDLE_TTL_S, even in a pool nobody uses now."""
        now = time.monotonic()
        with self._lock:
            pools = list(self._pools.values())
        return sum(pool.close_idle(lambda idle: now - idle.since >= IDLE_TTL_S) for pool in pools)

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()

    def drain(self, timeout: float) -> int:
        """Refuse new checkouts, cancel what runs until every run gave its connection back.

        The cancel request is resent every 0.2 s, so a script's next statement (which started
        after the previous cancel arrived) is cancelled too. Returns how many connections were
        running something; a run still going at `timeout` is left to the process exit.
        """
        with self._lock:
            self.draining = True
            pools = list(self._pools.values())
        for pool in pools:
            pool.draining = True
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while True:
            busy = [c for pool in pools for c in pool.busy()]
            if not busy or time.monotonic() >= deadline:
                return len(seen)
            for conn in busy:
                seen.add(id(conn))
                if not conn.closed:
                    try:
                        conn.cancel_safe(timeout=2.0)
                    except psycopg.Error:
                        pass  # best effort: the next round tries again
            time.sleep(0.2)
