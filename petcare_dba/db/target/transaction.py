"""An explicit transaction held open on one target connection across page reruns.

The SQL editor lets a dba type BEGIN-less statements into an open transaction and decide later
to COMMIT or ROLLBACK. `begin` opens it through the one opener (`guards.begin`) with the lexing
pins and the engine's guards set locally (statement_timeout, lock_timeout,
idle_in_transaction_session_timeout), so PostgreSQL itself ends a transaction left idle too long
(reliability Q7). `ended_by_server` notices, without a
round trip unless the socket says so, that the server has closed the session, and returns the
translated reason (25P03 idle timeout, 57P01 terminated, connection lost).
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from petcare_dba.db import queries
from petcare_dba.db.errors import translate
from petcare_dba.db.target import guards
from petcare_dba.db.target.guards import Limits
from petcare_dba.errors import ConnectionLost, PetcareError
from petcare_dba.messages import say


def begin(conn: psycopg.Connection[Any], limits: Limits, *, read_only: bool) -> None:
    """BEGIN on an autocommit connection with the lexing pins and guards, in one message."""
    guards.begin(conn, limits, read_only=read_only)


def commit(conn: psycopg.Connection[Any]) -> None:
    """COMMIT the dba's transaction."""
    guards.end(conn, commit=True)


def rollback(conn: psycopg.Connection[Any]) -> None:
    """ROLLBACK the dba's transaction."""
    guards.end(conn, commit=False)


def in_error(conn: psycopg.Connection[Any]) -> bool:
    """True when a statement failed and only ROLLBACK (or ROLLBACK TO SAVEPOINT) is accepted."""
    return conn.info.transaction_status == TransactionStatus.INERROR


def ended_by_server(conn: psycopg.Connection[Any]) -> PetcareError | None:
    """Why the server ended this connection's session, or None while it is alive.

    An idle backend writes nothing unless it is going away, so a readable socket means the
    session is over; one round trip then reads the server's reason (e.g. 25P03).
    """
    if conn.closed or conn.broken:
        return ConnectionLost(say("msg.target.tx_lost"))
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return ConnectionLost(say("msg.target.tx_lost"))
    if not readable:
        return None
    try:
        conn.execute(queries.get("editor_tx_probe"))
    except psycopg.Error as exc:
        return translate(exc)
    return None
