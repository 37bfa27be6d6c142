"""Running user SQL on target databases: per-user pools, guarded transactions, capped fetches.

The database half of the safe execution engine (reliability Q1-Q11; pools and the cancel handle
are in `target.pool`). `transaction()` opens BEGIN [READ ONLY] with the lexing pins, the timeouts
and the role's resource limits set locally, through the one opener (`guards.guarded`, Q12).
`execute()` sends exactly one statement over the extended query protocol, so PostgreSQL itself
rejects multi-statement text, and refuses text a changed lexing setting would make the server
read differently; SELECTs go through a server-side cursor fetched in batches up to max_rows + 1 rows
and a byte cap. Errors leave as PetcareError via `petcare_dba.db.errors`.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.target import connect, guards
from petcare_dba.db.target.guards import (
    Limits,
    mark_opened,
    may_set_temp_file_limit,
    opened_read_only,
    require_read_only,
)
from petcare_dba.db.target.pool import CancelHandle, Lease, Pools, TargetPool
from petcare_dba.db.target.rows import Tally, collect
from petcare_dba.errors import ConfigError, PetcareError

__all__ = [
    "CancelHandle",
    "Lease",
    "Limits",
    "Method",
    "Pools",
    "QueryResult",
    "TargetPool",
    "execute",
    "function_volatility",
    "mark_opened",
    "may_set_temp_file_limit",
    "opened_read_only",
    "require_read_only",
    "run_read_only",
    "session_limits",
    "transaction",
]

if not hasattr(psycopg.Cursor, "_execute_send"):  # pragma: no cover - guards a psycopg upgrade
    raise ConfigError("psycopg changed: the extended-protocol cursor of the engine must be revised")


class ExtendedCursor(psycopg.Cursor[tuple[Any, ...]]):
    """A client cursor that always uses the extended query protocol (even without parameters).

    psycopg sends parameterless text with the simple protocol, which runs `SELECT 1; DROP TABLE t`
    as two statements. Parse/Bind/Execute accepts one statement only, so the server refuses such
    text with 42601 whatever the app's classifier thought (reliability Q2). Unnamed statements
    keep transaction poolers (Supavisor, PgBouncer) working, unlike `prepare=True`.
    """

    def _execute_send(
        self, query: Any, *, force_extended: bool = False, binary: bool | None = None
    ) -> None:
        super()._execute_send(query, force_extended=True, binary=binary)


class PipelineCursor(ExtendedCursor):
    """An extended-protocol cursor for a pipeline that keeps the error its result carried.

    When the server ends the session (57P01, a FATAL ErrorResponse) during a pipeline, psycopg
    reads that result, then meets the closed socket while fetching the rest of the pipeline and
    raises "server closed the connection" instead, losing who ended it. The cursor whose result
    was the FATAL still saw it here, so the engine can tell the user (F3; `pipeline`).
    """

    failure: psycopg.Error | None = None

    def _check_results(self, results: Any) -> None:
        try:
            super()._check_results(results)
        except psycopg.Error as exc:
            self.failure = exc
            raise


if not hasattr(psycopg.Cursor, "_check_results"):  # pragma: no cover - guards a psycopg upgrade
    raise ConfigError("psycopg changed: the engine's pipeline must be revised")


class Method(enum.StrEnum):
    """How a statement's rows are read."""

    CURSOR = "cursor"  # plain SELECT/VALUES/TABLE: DECLARE ... CURSOR, then FETCH in batches
    BUFFERED = "buffered"  # anything else: one extended-protocol execute, result kept by libpq


@dataclass(frozen=True)
class QueryResult:
    """The result of one statement, after the row and byte caps: what the executor fetched is
    what the engine reports (issue 16: one type), `statement_index` set by the engine."""

    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_count: int | None
    truncated: bool
    truncated_reason: str | None
    elapsed_ms: float
    # The PostgreSQL type OID of each column (services/sql/values.py formats by it; issue 16).
    column_oids: tuple[int, ...] = ()
    statement_index: int = 0
    command_tag: str = ""


def status_only(cur: psycopg.Cursor[Any], started: float) -> QueryResult:
    """The result of a statement that returns no rows (its count and command tag)."""
    return QueryResult(
        (),
        (),
        (),
        cur.rowcount if cur.rowcount >= 0 else None,
        False,
        None,
        elapsed_ms(started),
        command_tag=cur.statusmessage or "",
    )


@contextmanager
def transaction(
    conn: psycopg.Connection[Any], limits: Limits, *, read_only: bool, rollback: bool = False
) -> Iterator[None]:
    """BEGIN [READ ONLY] with lexing pins, timeouts and resource limits set locally.

    The engine's use of `guards.guarded`: commit on success, roll back on error; with
    `rollback` it is rolled back even on success (EXPLAIN ANALYZE of a writing statement).
    The connection must be in autocommit mode.
    """
    with guards.guarded(conn, limits, read_only=read_only, rollback=rollback):
        yield


@contextmanager
def session_limits(conn: psycopg.Connection[Any], limits: Limits) -> Iterator[None]:
    """Session-level timeouts around a statement that cannot run inside a transaction block.

    They are reset afterwards (best effort; the caller also discards the connection) because
    behind a transaction pooler the server connection goes on to serve other clients.
    """
    with translated():
        conn.execute(queries.get("engine_pin_lexing_session"))
        conn.execute(queries.get("engine_set_session_limits"), guards.limit_params(limits))
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(psycopg.Error):
                conn.execute(queries.get("engine_reset_session_limits"))


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


def privilege_fingerprint(conn: psycopg.Connection[Any]) -> str:
    """A digest of the grants, memberships and policies deciding what this role may read.

    The result cache keys on it, so a REVOKE or a changed policy (even one made outside the app)
    makes every cached result of the role a miss. One catalog query, one round trip.
    """
    with translated():
        row = conn.execute(queries.get("cache_privilege_fingerprint")).fetchone()
    return str(row[0]) if row else ""


def execute(
    conn: psycopg.Connection[Any],
    text: str,
    limits: Limits,
    *,
    method: Method = Method.BUFFERED,
    handle: CancelHandle | None = None,
    verify: Callable[[str], None] | None = None,
) -> QueryResult:
    """Run one statement (extended protocol) and return its capped rows.

    `verify` is shown the DECLARE composed around `text` for a cursor and must raise unless
    it holds exactly the vetted statement.
    """
    guards.require_same_reading(conn, text)
    started = time.perf_counter()
    guard: AbstractContextManager[None] = handle.attached(conn) if handle else nullcontext()
    with translated(), guard:
        if method is Method.CURSOR:
            return _run_cursor(conn, text, limits, handle, started, verify)
        cur = ExtendedCursor(conn)
        cur.execute(text)
        if cur.description is None:
            return status_only(cur, started)
        rows, truncated, reason = collect(cur.fetchmany, Tally(), limits, handle)
        return fetched_of(cur, rows, truncated, reason, cur.statusmessage or "", started)


cursor_ids = itertools.count(1)


def _run_cursor(
    conn: psycopg.Connection[Any],
    text: str,
    limits: Limits,
    handle: CancelHandle | None,
    started: float,
    verify: Callable[[str], None] | None = None,
) -> QueryResult:
    # A server-side cursor keeps the result on the server: only max_rows + 1 rows (or fewer,
    # under the byte cap) ever reach this process, however large the result is (Q8). The cursor
    # ends with the transaction, so no CLOSE is sent. DECLARE goes over the extended protocol
    # like every user statement, so `SELECT 1; DROP TABLE t` is still refused by the server
    # (Q2). Not pipelined: in pipeline mode libpq loses the server's FATAL reason (57P01) when
    # the backend is terminated, and the user must be told who ended the session (F3).
    name = sql.Identifier(f"petcare_c{next(cursor_ids)}")
    statement = sql.SQL(queries.bare("engine_cursor_declare")).format(
        name=name, query=sql.SQL(text)
    )
    declared = statement.as_string(conn)
    if verify is not None:
        verify(declared)
    prefix = len(declared) - len(text)  # the user's text is last in the template
    next_rows = sql.SQL(queries.bare("engine_cursor_fetch"))
    declare = ExtendedCursor(conn)
    fetch = ExtendedCursor(conn)

    def take(size: int) -> list[tuple[Any, ...]]:
        fetch.execute(next_rows.format(count=sql.Literal(size), name=name))
        return fetch.fetchall()

    try:
        with translated():
            declare.execute(declared)
            rows, truncated, reason = collect(take, Tally(), limits, handle)
    except PetcareError as exc:
        # The server counts positions from the start of DECLARE; the user typed `text`.
        if exc.position is not None and exc.position > prefix:
            exc.position -= prefix
        raise
    return fetched_of(fetch, rows, truncated, reason, f"SELECT {len(rows)}", started)


def fetched_of(
    cur: psycopg.Cursor[Any],
    rows: list[tuple[Any, ...]],
    truncated: bool,
    reason: str | None,
    tag: str,
    started: float,
) -> QueryResult:
    description = cur.description or []
    return QueryResult(
        tuple(c.name for c in description),
        tuple(c.type_display for c in description),
        tuple(rows),
        len(rows),
        truncated,
        reason,
        elapsed_ms(started),
        command_tag=tag,
        column_oids=tuple(c.type_code for c in description),
    )


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def run_read_only(
    url: str,
    app_name: str,
    text: str,
    limits: Limits,
    *,
    connect_timeout: int = 10,
    method: Method = Method.BUFFERED,
) -> QueryResult:
    """One statement in its own READ ONLY transaction on a fresh connection.

    The database-level viewer path without any classifier in front: tests use it to prove that
    PostgreSQL alone refuses writes (25006) and multi-statement text (42601).
    """
    with connect.connect(url, app_name, connect_timeout, autocommit=True) as conn:
        with transaction(conn, limits, read_only=True):
            return execute(conn, text, limits, method=method)
