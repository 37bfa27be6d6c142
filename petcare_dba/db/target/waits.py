"""Waiting on libpq by hand without stalling the rest of the process.

The backup and export paths read COPY data from libpq directly (psycopg's Copy iterator costs a
wait per row). libpq's blocking calls (PQgetCopyData in sync mode, PQgetResult while a result
is still arriving) wait on the socket inside C with the GIL held, as psycopg's binary build
calls them: while one backup waits for the next bytes from a slow or far server, every other
thread of the app (every other user's request) stands still. The fault matrix's slicer cell
found it: with the proxy in the same process, the backup waited forever for bytes the proxy
could not send. So these helpers only ever ask libpq for what it already has, and wait in
`select`, which releases the GIL.
"""

from __future__ import annotations

import select

import psycopg
from psycopg import pq

# How long one wait may last before the caller looks again (a closed socket shows up at once).
TICK_S = 1.0


def readable(pgconn: pq.abc.PGconn) -> None:
    """Wait until the server sent something (or TICK_S passed), and take it into libpq."""
    select.select([pgconn.socket], [], [], TICK_S)
    pgconn.consume_input()


def flushed(pgconn: pq.abc.PGconn) -> None:
    """Wait until what was queued for the server is written (a non-blocking connection)."""
    while pgconn.flush() == 1:
        select.select([], [pgconn.socket], [], TICK_S)


def next_result(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    """PQgetResult once it cannot block: the next result, or None when the query is done."""
    while pgconn.is_busy():
        readable(pgconn)
    return pgconn.get_result()


def copy_data(pgconn: pq.abc.PGconn) -> bytes | None:
    """The next CopyData row of a COPY OUT, or None at its end (PQgetCopyData in async mode)."""
    while True:
        nbytes, data = pgconn.get_copy_data(1)
        if nbytes > 0:
            return data  # type: ignore[return-value]
        if nbytes == 0:
            readable(pgconn)
            continue
        if nbytes < -1:  # the connection failed mid-copy
            message = pgconn.error_message.decode("utf-8", "replace")
            raise psycopg.OperationalError(message or "connection lost during COPY")
        return None
