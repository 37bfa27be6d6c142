"""Running user SQL on target databases: per-user pools, guarded transactions, capped fetches.

The database half of the safe execution engine (reliability Q1-Q11, F3-F7). `Pools` keeps one
small pool per (stored connection, app user) capped at max_connections_per_user; a request beyond
the cap waits pool_timeout_s and then gets a "busy" error. `transaction()` opens BEGIN [READ ONLY]
and sets statement_timeout, lock_timeout and idle_in_transaction_session_timeout with
set_config(..., true), i.e. SET LOCAL. `execute()` sends exactly one statement over the extended
query protocol, so PostgreSQL itself rejects multi-statement text; SELECTs go through a server-side
cursor fetched in batches up to max_rows + 1 rows and a byte cap. `CancelHandle.cancel()` cancels
from another thread with `cancel_safe()` (never pg_terminate_backend). Errors leave as
PetcareError via `petcare_dba.db.errors`.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import select
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from petcare_dba.db import queries, target
from petcare_dba.db.errors import translated
from petcare_dba.errors import ConfigError, PetcareError, QueryCancelled, Unavailable

# The first batch is small so that a result of huge rows (1 MB text each) does not overshoot the
# byte cap by a whole batch; later batches are sized from the average row seen so far.
FIRST_BATCH = 50
MAX_BATCH = 2000
IDLE_TTL_S = 60.0

if not hasattr(psycopg.Cursor, "_execute_send"):  # pragma: no cover - guards a psycopg upgrade
    raise ConfigError("psycopg changed: the extended-protocol cursor of the engine must be revised")


class _ExtendedCursor(psycopg.Cursor[tuple[Any, ...]]):
    """A client cursor that always uses the extended query protocol (even without parameters).

    psycopg sends parameterless text with the simple protocol, which runs `SELECT 1; DROP TABLE t`
    as two statements. Parse/Bind/Execute accepts one statement only, so the server refuses such
    text with 42601 whatever the app's classifier thought (reliability Q2). Unnamed statements
    keep transaction poolers (Supavisor, PgBouncer) working, unlike `prepare=True`.
    """

    def _execute_send(self, query: Any, *, force_extended: bool = False,
                      binary: bool | None = None) -> None:
        super()._execute_send(query, force_extended=True, binary=binary)


@dataclass(frozen=True)
class Limits:
    """Guards applied to one run; all come from settings (engine group)."""

    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    max_rows: int
    max_bytes: int


class Method(enum.StrEnum):
    """How a statement's rows are read."""

    CURSOR = "cursor"  # plain SELECT/VALUES/TABLE: DECLARE ... CURSOR, then FETCH in batches
    BUFFERED = "buffered"  # anything else: one extended-protocol execute, result kept by libpq


@dataclass(frozen=True)
class Fetched:
    """What one statement returned, after the row and byte caps."""

    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_count: int | None
    truncated: bool
    truncated_reason: str | None
    command_tag: str
    elapsed_ms: float


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
            raise QueryCancelled("the statement was cancelled", sqlstate="57014")

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

    def __init__(self, url: str, *, max_size: int, wait_timeout: float,
                 connect_timeout: int) -> None:
        self._url = url
        self.max_size = max(1, max_size)
        self.wait_timeout = wait_timeout
        self.connect_timeout = connect_timeout
        self._slots = threading.BoundedSemaphore(self.max_size)
        self._lock = threading.Lock()
        self._idle: list[_Idle] = []
        self._closed = False

    @contextmanager
    def connection(self, app_name: str) -> Iterator[Lease]:
        """Check out a connection tagged `app_name`; 'busy' error after wait_timeout."""
        if not self._slots.acquire(timeout=self.wait_timeout):
            raise Unavailable(
                f"busy: you already run {self.max_size} statement(s) on this connection "
                f"(max_connections_per_user={self.max_size}); waited {self.wait_timeout:g} s",
                hint="retry when one finishes, or cancel it")
        try:
            lease = Lease(self._take(app_name) or self._open(app_name))
            try:
                yield lease
            finally:
                self._give_back(app_name, lease)
        finally:
            self._slots.release()

    def _open(self, app_name: str) -> psycopg.Connection[Any]:
        started = time.monotonic()
        try:
            return target.connect(self._url, app_name, self.connect_timeout, autocommit=True)
        except PetcareError as exc:
            if time.monotonic() - started >= self.connect_timeout - 0.5:
                raise Unavailable(
                    f"could not connect within {self.connect_timeout} s (connect_timeout_s)",
                    hint="check that the database host is reachable") from exc
            raise

    def _take(self, app_name: str) -> psycopg.Connection[Any] | None:
        now = time.monotonic()
        with self._lock:
            keep: list[_Idle] = []
            found: psycopg.Connection[Any] | None = None
            for idle in self._idle:
                if found is None and idle.app_name == app_name and _healthy(idle.conn):
                    found = idle.conn
                elif now - idle.since < IDLE_TTL_S and _healthy(idle.conn):
                    keep.append(idle)
                else:
                    idle.conn.close()
            self._idle = keep
        return found

    def _give_back(self, app_name: str, lease: Lease) -> None:
        conn = lease.conn
        clean = (not lease.discard and not conn.closed and not conn.broken
                 and conn.info.transaction_status == TransactionStatus.IDLE)
        with self._lock:
            if clean and not self._closed:
                self._idle.append(_Idle(app_name, time.monotonic(), conn))
                while len(self._idle) > self.max_size:
                    self._idle.pop(0).conn.close()
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for idle in self._idle:
                idle.conn.close()
            self._idle.clear()


def _healthy(conn: psycopg.Connection[Any]) -> bool:
    """False when an idle connection is closed or the server wrote to it (terminated, restarted).

    An idle backend sends nothing unless it is going away, so a readable socket means the next
    statement would fail; checking costs no round trip.
    """
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable


class Pools:
    """Every TargetPool of one runtime, keyed by (connection id, user id, URL digest)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[int, int, str], TargetPool] = {}

    def get(self, connection_id: int, user_id: int, url: str, *, max_size: int,
            wait_timeout: float, connect_timeout: int) -> TargetPool:
        # The digest makes a changed URL (new password) start a new pool; the URL itself is
        # kept only inside the pool object.
        key = (connection_id, user_id, hashlib.sha256(url.encode()).hexdigest())
        with self._lock:
            pool = self._pools.get(key)
            if pool is None or pool.max_size != max(1, max_size):
                if pool is not None:
                    pool.close()
                pool = TargetPool(url, max_size=max_size, wait_timeout=wait_timeout,
                                  connect_timeout=connect_timeout)
                self._pools[key] = pool
            pool.wait_timeout = wait_timeout
            return pool

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def _limit_params(limits: Limits) -> dict[str, str]:
    return {"statement_timeout": str(limits.statement_timeout_ms),
            "lock_timeout": str(limits.lock_timeout_ms),
            "idle_timeout": str(limits.idle_in_transaction_timeout_ms)}


@contextmanager
def transaction(conn: psycopg.Connection[Any], limits: Limits, *,
                read_only: bool) -> Iterator[None]:
    """BEGIN [READ ONLY] with the timeouts set locally; commit on success, roll back on error."""
    with translated():
        conn.read_only = read_only  # psycopg then sends BEGIN READ ONLY / READ WRITE
        with conn.transaction():
            conn.execute(queries.get("engine_set_limits"), _limit_params(limits))
            yield


def set_session_limits(conn: psycopg.Connection[Any], limits: Limits) -> None:
    """Session-level timeouts for a statement that cannot run inside a transaction block.

    The caller discards the connection afterwards, so the settings never reach another run.
    """
    with translated():
        conn.execute(queries.get("engine_set_session_limits"), _limit_params(limits))


def function_volatility(conn: psycopg.Connection[Any], names: Sequence[str]) -> dict[str, str]:
    """{name and schema.name: most volatile flag} for the named functions on the target."""
    if not names:
        return {}
    rank = {"i": 0, "s": 1, "v": 2}
    found: dict[str, str] = {}
    # An index lookup in pg_proc: one implicit transaction, one round trip, no guards needed.
    with translated():
        rows = conn.execute(queries.get("engine_function_volatility"), {"names": list(names)})
        for name, schema, flag in rows.fetchall():
            for key in (name, f"{schema}.{name}"):
                if rank.get(flag, 2) >= rank.get(found.get(key, "i"), 0):
                    found[key] = flag
    return found


def execute(conn: psycopg.Connection[Any], text: str, limits: Limits, *,
            method: Method = Method.BUFFERED, handle: CancelHandle | None = None) -> Fetched:
    """Run one statement (extended protocol) and return its capped rows."""
    started = time.perf_counter()
    guard: AbstractContextManager[None] = handle.attached(conn) if handle else nullcontext()
    with translated(), guard:
        if method is Method.CURSOR:
            return _run_cursor(conn, text, limits, handle, started)
        cur = _ExtendedCursor(conn)
        cur.execute(text)
        if cur.description is None:
            return Fetched((), (), (), cur.rowcount if cur.rowcount >= 0 else None, False,
                           None, cur.statusmessage or "", _ms(started))
        sizes: list[int] = []

        def take(size: int) -> list[tuple[Any, ...]]:
            rows = cur.fetchmany(size)
            sizes.extend(_row_sizes(rows))
            return rows

        rows, truncated, reason = _collect(take, sizes, limits, handle)
        return _fetched(cur, rows, truncated, reason, cur.statusmessage or "", started)


_cursor_ids = itertools.count(1)


def _run_cursor(conn: psycopg.Connection[Any], text: str, limits: Limits,
                handle: CancelHandle | None, started: float) -> Fetched:
    # A server-side cursor keeps the result on the server: only max_rows + 1 rows (or fewer,
    # under the byte cap) ever reach this process, however large the result is (Q8).
    with conn.cursor(name=f"petcare_c{next(_cursor_ids)}", scrollable=False) as cur:
        cur.execute(text)
        sizes: list[int] = []

        def take(size: int) -> list[tuple[Any, ...]]:
            rows = cur.fetchmany(size)
            sizes.extend(_row_sizes(rows))
            return rows

        rows, truncated, reason = _collect(take, sizes, limits, handle)
        return _fetched(cur, rows, truncated, reason, f"SELECT {len(rows)}", started)


def _collect(take: Callable[[int], list[tuple[Any, ...]]], sizes: list[int], limits: Limits,
             handle: CancelHandle | None) -> tuple[list[tuple[Any, ...]], bool, str | None]:
    """Fetch batches until the result ends, max_rows + 1 rows arrive or max_bytes is passed."""
    rows: list[tuple[Any, ...]] = []
    want = limits.max_rows + 1
    batch = min(FIRST_BATCH, want)
    while True:
        if handle is not None:
            handle.check()
        got = take(batch)
        rows.extend(got)
        used = sum(sizes)
        if used > limits.max_bytes:
            kept, total = 0, 0
            for size in sizes:
                if total + size > limits.max_bytes:
                    break
                total += size
                kept += 1
            return rows[:kept], True, (
                f"the result passed max_result_bytes ({limits.max_bytes} bytes); "
                f"showing the first {kept} rows")
        if len(rows) > limits.max_rows:
            return rows[:limits.max_rows], True, (
                f"more than max_rows ({limits.max_rows}) rows; showing the first "
                f"{limits.max_rows}")
        if len(got) < batch:
            return rows, False, None
        average = max(1, used // max(1, len(rows)))
        batch = max(1, min(MAX_BATCH, want - len(rows), (limits.max_bytes - used) // average + 1))


def _row_sizes(rows: list[tuple[Any, ...]]) -> list[int]:
    """Approximate bytes each row holds in memory: text and binary by length, scalars as 8.

    libpq's PGresult does not expose value lengths through psycopg's binary build, and what the
    cap protects is this process's memory, so the loaded values are measured.
    """
    return [sum(_size(v) for v in row) for row in rows]


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, int | float | bool):
        return 8
    return len(str(value))


def _fetched(cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]], truncated: bool,
             reason: str | None, tag: str, started: float) -> Fetched:
    description = cur.description or []
    return Fetched(tuple(c.name for c in description),
                   tuple(c.type_display for c in description), tuple(rows), len(rows),
                   truncated, reason, tag, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def run_read_only(url: str, app_name: str, text: str, limits: Limits, *,
                  connect_timeout: int = 10, method: Method = Method.BUFFERED) -> Fetched:
    """One statement in its own READ ONLY transaction on a fresh connection.

    The database-level viewer path without any classifier in front: tests use it to prove that
    PostgreSQL alone refuses writes (25006) and multi-statement text (42601).
    """
    with target.connect(url, app_name, connect_timeout, autocommit=True) as conn:
        with transaction(conn, limits, read_only=True):
            return execute(conn, text, limits, method=method)
