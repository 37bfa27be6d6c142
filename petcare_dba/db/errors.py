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
from petcare_dba.messages import say

_LOST_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}


def translate(exc: BaseException) -> PetcareError:
    """Map a driver/pool exception to the PetcareError a user should see."""
    if isinstance(exc, PetcareError):
        return exc
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return Unavailable(say("msg.db.busy"), hint=say("msg.db.busy.hint"))
    if isinstance(exc, psycopg_pool.PoolClosed):
        return Unavailable(say("msg.db.pool_closed"), hint=say("msg.db.pool_closed.hint"))
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
            return QueryTimeout(say("msg.db.statement_timeout", message=message), **fields)
        return QueryCancelled(say("msg.db.cancelled"), **fields)
    if sqlstate == "55P03":
        return QueryTimeout(say("msg.db.lock_timeout", message=message), **fields)
    if sqlstate == "25P03":
        return ConnectionLost(say("msg.db.idle_timeout"), **fields)
    if sqlstate == "57P01":
        return ConnectionLost(say("msg.db.terminated"), **fields)
    if sqlstate in _LOST_STATES or (isinstance(exc, psycopg.OperationalError) and not sqlstate):
        return ConnectionLost(
            message or say("msg.db.lost"),
            hint=fields["hint"] or say("msg.db.lost.hint"),
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
