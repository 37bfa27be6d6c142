"""Streaming a query's result out of PostgreSQL without holding it in memory.

`copy_csv` runs `COPY (SELECT * FROM (query) LIMIT n) TO STDOUT WITH (FORMAT csv, HEADER)` and
writes each chunk libpq hands over straight to a binary stream, so memory stays at one chunk
whatever the size. `iter_batches` reads a server-side cursor in batches for writers that need
typed rows (Parquet). Both run on a connection the caller has put in a READ ONLY transaction with
the engine's timeouts; the query text must already be vetted as one plain SELECT. Both send the
composed statement over the extended protocol (one statement per message, reliability Q13), after
the caller's `verify` has re-parsed the exact text; a COPY that stays silent past `deadline_s` is
cancelled from here, so a stuck server never holds the export.
"""

from __future__ import annotations

import itertools
import select
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, BinaryIO

import psycopg
from psycopg import pq, sql

from petcare_dba.db.errors import translated
from petcare_dba.db.target import guards, waits
from petcare_dba.db.target.executor import ExtendedCursor
from petcare_dba.db.target.pool import CancelHandle
from petcare_dba.errors import QueryTimeout
from petcare_dba.messages import say

Progress = Callable[[int, int], None]  # (rows so far, bytes so far)
Verify = Callable[[str], None]  # raises unless the composed text is exactly the vetted statement
_names = itertools.count(1)
FLUSH_BYTES = 1 << 20  # write to the stream in 1 MiB pieces


@dataclass(frozen=True)
class Column:
    """A result column as an exporter needs it: name, type OID and numeric precision/scale."""

    name: str
    type_oid: int
    type_name: str
    precision: int | None
    scale: int | None


def capped(select_text: str, max_rows: int) -> sql.Composed:
    """`SELECT * FROM (<query>) LIMIT max_rows`; the newline ends a trailing `--` comment."""
    return sql.SQL("SELECT * FROM (\n{}\n) AS petcare_export LIMIT {}").format(
        sql.SQL(select_text),  # vetted by the caller: exactly one plain SELECT (pglast)
        sql.Literal(max_rows),
    )


def copy_csv(
    conn: psycopg.Connection[Any],
    select_text: str,
    max_rows: int,
    out: BinaryIO,
    *,
    progress: Progress | None = None,
    handle: CancelHandle | None = None,
    report_every: float = 0.25,
    verify: Verify | None = None,
    deadline_s: float | None = None,
) -> tuple[int, int]:
    """Stream the capped query as CSV with a header into `out`; returns (rows, bytes)."""
    statement = (
        sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)")
        .format(capped(select_text, max_rows))
        .as_string(conn)
    )
    if verify is not None:
        verify(statement)
    guards.require_same_reading(conn, statement)
    written = 0
    lines = 0
    last = time.monotonic()
    guard: AbstractContextManager[None] = (
        handle.attached(conn) if handle is not None else nullcontext()
    )
    buffer = bytearray()
    # ExtendedCursor: Parse/Bind/Execute, so the server runs exactly one statement.
    with translated(), guard, ExtendedCursor(conn) as cur, cur.copy(statement) as copy:
        for chunk in _drain(conn, copy, deadline_s):
            buffer += chunk
            if len(buffer) < FLUSH_BYTES:
                continue
            out.write(buffer)
            written += len(buffer)
            if progress is not None:
                # Newlines approximate rows (exact unless a value holds a newline).
                lines += buffer.count(b"\n")
                now = time.monotonic()
                if now - last >= report_every:
                    progress(max(0, lines - 1), written)
                    last = now
            buffer.clear()
        out.write(buffer)
        written += len(buffer)
        lines += buffer.count(b"\n")
        copy_rows = cur.rowcount
    rows = copy_rows if copy_rows >= 0 else max(0, lines - 1)
    if progress is not None:
        progress(rows, written)
    return rows, written


def _drain(
    conn: psycopg.Connection[Any], copy: psycopg.Copy, deadline_s: float | None = None
) -> Iterator[bytes | bytearray | memoryview]:
    """The COPY OUT rows, read straight from libpq.

    psycopg's `for chunk in copy` runs a generator and a wait per row, which made exports
    about 30% slower than psql; reading libpq's buffer in a loop is as fast as psql. When the
    data ends, the final result is read here and the Copy object is told it is finished (its
    `_finished` flag), so it does not read again; without that flag psycopg's loop is used.
    """
    if not hasattr(copy, "_finished"):  # pragma: no cover - guards a psycopg upgrade
        yield from copy
        return
    pgconn = conn.pgconn
    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    cancelled_at: float | None = None
    while True:
        nbytes, data = pgconn.get_copy_data(1)
        if nbytes > 0:
            yield data
            continue
        if nbytes == 0:  # nothing buffered yet: wait for the socket (cancel still works)
            select.select([pgconn.socket], [], [], 1.0)
            pgconn.consume_input()
            now = time.monotonic()
            if deadline is not None and now > deadline:
                if cancelled_at is None:
                    cancelled_at = now
                    conn.cancel_safe(timeout=5.0)  # the server answers 57014 if it still can
                elif now - cancelled_at > 5.0:
                    conn.close()  # the server did not answer the cancel: give the export up
                    raise QueryTimeout(
                        say("msg.target.export_stalled", s=f"{deadline_s:.0f}"), sqlstate="57014"
                    )
            continue
        if nbytes < -1:  # the connection failed mid-copy
            message = pgconn.error_message.decode("utf-8", "replace")
            raise psycopg.OperationalError(message or "connection lost during COPY")
        break
    # psycopg's own flag (no public API ends a Copy read by hand): see the docstring.
    copy._finished = True
    error = None
    while (result := waits.next_result(pgconn)) is not None:  # never blocks holding the GIL
        if result.status != pq.ExecStatus.COMMAND_OK and error is None:
            error = psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
        elif result.command_tuples is not None:
            # psycopg's own field (no public setter): the rows COPY sent, as its loop would set.
            copy.cursor._rowcount = result.command_tuples
    if error is not None:
        raise error


def iter_batches(
    conn: psycopg.Connection[Any],
    select_text: str,
    max_rows: int,
    *,
    batch: int = 10_000,
    handle: CancelHandle | None = None,
    verify: Verify | None = None,
) -> Iterator[tuple[list[Column], list[tuple[Any, ...]]]]:
    """Yield (columns, rows) batches of the capped query from a server-side cursor.

    psycopg declares a named cursor over the extended protocol (one statement per message).
    """
    query = capped(select_text, max_rows).as_string(conn)
    if verify is not None:
        verify(query)
    guards.require_same_reading(conn, query)
    guard: AbstractContextManager[None] = (
        handle.attached(conn) if handle is not None else nullcontext()
    )
    with translated(), guard:
        with conn.cursor(name=f"petcare_x{next(_names)}") as cur:
            cur.itersize = batch
            cur.execute(sql.SQL(query))
            columns = [
                Column(d.name, d.type_code, d.type_display, d.precision, d.scale)
                for d in (cur.description or [])
            ]
            while True:
                if handle is not None:
                    handle.check()
                rows = cur.fetchmany(batch)
                if not rows:
                    break
                yield columns, rows
                if len(rows) < batch:
                    break
