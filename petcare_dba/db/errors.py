"""Translation of psycopg errors into the PetcareError family, at the `db/` boundary.

Keeps SQLSTATE, detail, hint and statement position, picks the subclass a user can act on
(timeout, cancel, lost connection, permission) and redacts anything that looks like a password
or conninfo, because libpq echoes connection strings in some messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
from psycopg import errors as pgerrors

from petcare_dba.errors import (
    ConnectionLost,
    DatabaseError,
    PermissionDenied,
    PetcareError,
    QueryCancelled,
    QueryTimeout,
    Refused,
    Unavailable,
    redact,
)

_LOST_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}


def translate(exc: BaseException) -> PetcareError:
    """Map a driver/pool exception to the PetcareError a user should see."""
    if isinstance(exc, PetcareError):
        return exc
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return Unavailable(
            "the database is busy: no connection became free in time",
            hint="retry in a moment; if it persists raise pool_max_size",
        )
    if isinstance(exc, psycopg_pool.PoolClosed):
        return Unavailable("the connection pool is closed", hint="restart the app")
    if not isinstance(exc, psycopg.Error):
        return DatabaseError(redact(str(exc)) or type(exc).__name__)
    diag = exc.diag
    sqlstate = exc.sqlstate or diag.sqlstate
    raw = diag.message_primary or (str(exc).strip().splitlines() or [""])[0]
    message = redact(raw)
    fields: dict[str, Any] = {
        "sqlstate": sqlstate,
        "detail": redact(diag.message_detail) or None,
        "hint": redact(diag.message_hint) or None,
        "position": int(diag.statement_position) if diag.statement_position else None,
    }
    if sqlstate == "57014":
        text = message.lower()
        if "statement timeout" in text:
            return QueryTimeout(f"{message} (exceeded statement_timeout_ms)", **fields)
        return QueryCancelled("the statement was cancelled", **fields)
    if sqlstate == "55P03":
        return QueryTimeout(f"gave up waiting for a lock: {message} (lock_timeout_ms)", **fields)
    if sqlstate == "25P03":
        return ConnectionLost(
            "the transaction was rolled back because it was idle for too long "
            "(idle_in_transaction_timeout_ms)",
            **fields,
        )
    if sqlstate == "57P01":
        return ConnectionLost("session terminated by administrator (57P01)", **fields)
    if sqlstate in _LOST_STATES or (isinstance(exc, psycopg.OperationalError) and not sqlstate):
        return ConnectionLost(
            message or "connection lost",
            hint=fields["hint"]
            or "any open transaction was rolled back by the server; reconnect "
            "and run the statement again",
            sqlstate=sqlstate,
        )
    if sqlstate == "PCA01":  # users_keep_admin (migration login_hardening): a refusal, not a fault
        return Refused(message, **fields)
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return PermissionDenied(message, **fields)
    return DatabaseError(message, **fields)


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise any driver error inside the block as a PetcareError."""
    try:
        yield
    except (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as exc:
        raise translate(exc) from exc
