"""One user statement in its own guarded transaction, in at most two round trips (issue 16).

What a 1k-row SELECT costs on a 40 ms link is its round trips, so `run_guarded` sends with
libpq's pipeline mode: the opener's statements (BEGIN [READ ONLY], the lexing pins, the
timeouts and resource limits, `guards.opening_parts`), the statement — a server-side cursor's
DECLARE and its first FETCH for a plain query, else the statement itself — go in one round
trip, and COMMIT (ROLLBACK for a dry run) travels with the last message: with the statement
when its result is buffered, with the FETCH that reaches max_rows + 1 for a cursor. Each
statement is its own extended-protocol message, so PostgreSQL still refuses multi-statement
text (Q2), and the server parses the user's statement only after the pins ran in the same
transaction, so it reads the text exactly as the classifier did (Q12) without asking. A server
that ends the session mid-pipeline is still reported by its reason (`PipelineCursor`, F3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.target import guards, widths
from petcare_dba.db.target.executor import (
    CancelHandle,
    Limits,
    Method,
    PipelineCursor,
    QueryResult,
    fetched_of,
    status_only,
)
from petcare_dba.db.target.rows import FIRST_BATCH, Tally, collect
from petcare_dba.errors import PetcareError

CURSOR_NAME = "petcare_cursor"


def run_guarded(
    conn: psycopg.Connection[Any],
    text: str,
    limits: Limits,
    *,
    read_only: bool,
    claimed_read_only: bool = False,
    method: Method = Method.BUFFERED,
    handle: CancelHandle | None = None,
    verify: Callable[[str], None] | None = None,
    rollback: bool = False,
) -> QueryResult:
    """Open a guarded transaction, run `text`, fetch capped rows and end it, pipelined.

    `claimed_read_only` is what the audit row says; a READ WRITE opening refuses such a
    statement before anything is sent (A/Q1). On error the transaction is rolled back.
    The connection must be in autocommit mode.
    """
    guards.require_opened_as(read_only, claimed_read_only)
    begin = guards.begin_query(read_only)
    opening = guards.opening_parts(conn, begin, limits)  # may ask once per connection (temp)
    end = queries.bare("editor_tx_rollback" if rollback else "editor_tx_commit")
    started = time.perf_counter()
    used: list[PipelineCursor] = []

    def cursor() -> PipelineCursor:
        made = PipelineCursor(conn)
        used.append(made)
        return made

    declared = _declare(conn, text, verify) if method is Method.CURSOR else None
    prefix = len(declared[1]) - len(text) if declared else 0
    guard: AbstractContextManager[None] = handle.attached(conn) if handle else nullcontext()
    try:
        with translated(), guard:
            try:
                with ExitStack() as stack:
                    # Leaving pipeline mode sends the Sync the last message needs and reads
                    # every result; `pipe.sync()` would wait once more for a Sync of its own.
                    pipe = stack.enter_context(conn.pipeline())
                    for part, params in opening:
                        cursor().execute(part, params or None)
                    link = _Link(pipe, stack)
                    if declared is not None:
                        seen = widths.key(conn, text)
                        return _cursor_rows(link, *declared, limits, handle, cursor, end, seen)
                    return _buffered(link, text, limits, handle, cursor, end, started)
            except psycopg.Error as exc:
                raise _reason(used, exc) from exc
    except PetcareError as exc:
        guards.abandon(conn)
        # The server counts positions from the start of DECLARE; the user typed `text`.
        if prefix and exc.position is not None and exc.position > prefix:
            exc.position -= prefix
        raise


class _Link:
    """Sends what the pipeline holds: `turn` and stay in it, or `last` and leave it."""

    def __init__(self, pipe: psycopg.Pipeline, stack: ExitStack) -> None:
        self.pipe = pipe
        self.stack = stack

    def turn(self) -> None:
        self.pipe.sync()

    def last(self) -> None:
        self.stack.close()


def _reason(used: list[PipelineCursor], error: psycopg.Error) -> psycopg.Error:
    """The error a statement's own result carried (the server's FATAL), else `error`."""
    for cur in used:
        if cur.failure is not None:
            return cur.failure
    return error


def _declare(
    conn: psycopg.Connection[Any], text: str, verify: Callable[[str], None] | None
) -> tuple[sql.Identifier, str]:
    # One cursor per guarded transaction, which ends it: a fixed name cannot clash, and a
    # repeated statement composes the same text, whose proof wrap.prove_declare remembers.
    name = sql.Identifier(CURSOR_NAME)
    declared = (
        sql.SQL(queries.bare("engine_cursor_declare"))
        .format(name=name, query=sql.SQL(text))
        .as_string(conn)
    )
    if verify is not None:
        verify(declared)  # raises unless it holds exactly the vetted statement
    return name, declared


def _cursor_rows(
    link: _Link,
    name: sql.Identifier,
    declared: str,
    limits: Limits,
    handle: CancelHandle | None,
    cursor: Callable[[], PipelineCursor],
    end: str,
    seen: bytes,
) -> QueryResult:
    # The cursor keeps the result on the server: only max_rows + 1 rows (or fewer, under the
    # byte cap) reach this process. It ends with the transaction, so no CLOSE is sent. A
    # statement whose row width is remembered asks for every row at once (`widths`).
    started = time.perf_counter()
    cursor().execute(declared)
    fetch = cursor()
    closing = cursor()
    next_rows = sql.SQL(queries.bare("engine_cursor_fetch"))
    want = limits.max_rows + 1
    tally = Tally()
    ended = False

    def take(size: int) -> list[tuple[Any, ...]]:
        nonlocal ended
        fetch.execute(next_rows.format(count=sql.Literal(size), name=name))
        if tally.rows + size >= want:  # nothing can follow this page: COMMIT rides with it
            closing.execute(end)
            ended = True
            link.last()
        else:
            link.turn()
        return fetch.fetchall()

    first = widths.first_batch(seen, want, limits.max_bytes, FIRST_BATCH)
    rows, truncated, reason = collect(take, tally, limits, handle, first)
    widths.learn(seen, tally)
    if not ended:
        closing.execute(end)
        link.last()
    return fetched_of(fetch, rows, truncated, reason, f"SELECT {len(rows)}", started)


def _buffered(
    link: _Link,
    text: str,
    limits: Limits,
    handle: CancelHandle | None,
    cursor: Callable[[], PipelineCursor],
    end: str,
    started: float,
) -> QueryResult:
    # The whole result is in libpq's memory once it arrives, so COMMIT goes with the statement.
    cur = cursor()
    cur.execute(text)
    cursor().execute(end)
    link.last()
    if cur.description is None:
        return status_only(cur, started)
    rows, truncated, reason = collect(cur.fetchmany, Tally(), limits, handle)
    return fetched_of(cur, rows, truncated, reason, cur.statusmessage or "", started)
