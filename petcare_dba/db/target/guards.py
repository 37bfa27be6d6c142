"""What every target transaction pins in the message that opens it, and the checks that keep it.

The classifier reads user text with pglast, which always lexes as PostgreSQL does with
`standard_conforming_strings = on`, `backslash_quote = safe_encoding` and UTF-8 text. A target
database or role may default to something else (`ALTER DATABASE ... SET
standard_conforming_strings = off`, `ALTER ROLE ... SET client_encoding = 'SJIS'`, where `¥`
encodes to the byte 0x5c, a backslash to the server), and then `'a\\' , pg_read_file(...) , '`
is a string for the classifier and a function call for the server (reliability Q12). So
`open_transaction` sends BEGIN, these pins, the timeouts and the role's resource limits as one
message; `require_same_reading` refuses to send text the server would now read differently
because a statement of the same transaction changed a pinned setting (standard_conforming_strings
and client_encoding are GUC_REPORT: libpq already holds their current values, no round trip).
backslash_quote is not reported, but with UTF-8 pinned it can only make text fail, never read
differently. `temp_file_limit` is a superuser setting: it is sent only when the login role may
set it (`may_set_temp_file_limit`, asked once per connection).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.errors import Refused

# The values pglast assumes; https://www.postgresql.org/docs/current/runtime-config-compatible.html
PINNED = {
    "standard_conforming_strings": "on",
    "backslash_quote": "safe_encoding",
    "client_encoding": "UTF8",
}
# GUC_REPORT settings among them: the server tells libpq each change (ParameterStatus).
REPORTED = ("standard_conforming_strings", "client_encoding")
RULE = "the server reads the text exactly as the app checked it"

_may_set_temp: weakref.WeakKeyDictionary[psycopg.Connection[Any], bool] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class Limits:
    """Guards applied to one run; all come from settings (engine group).

    `temp_file_limit_kb` and `work_mem_max_kb` are the role's resource limits (0: none).
    """

    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    max_rows: int
    max_bytes: int
    temp_file_limit_kb: int = 0
    work_mem_max_kb: int = 0


def limit_params(limits: Limits) -> dict[str, str]:
    """Parameters of engine_set_limits (and of the resource limits when they apply)."""
    return {
        "statement_timeout": str(limits.statement_timeout_ms),
        "lock_timeout": str(limits.lock_timeout_ms),
        "idle_timeout": str(limits.idle_in_transaction_timeout_ms),
        "work_mem_kb": str(limits.work_mem_max_kb),
        "temp_file_limit": f"{limits.temp_file_limit_kb}kB",
    }


def may_set_temp_file_limit(conn: psycopg.Connection[Any]) -> bool:
    """Whether this connection's login role may SET temp_file_limit (asked once, then cached)."""
    known = _may_set_temp.get(conn)
    if known is not None:
        return known
    with translated():
        try:
            row = conn.execute(queries.get("engine_may_set_temp_file_limit")).fetchone()
        except psycopg.errors.UndefinedFunction:  # before PostgreSQL 15: superusers only
            if not conn.autocommit:
                conn.rollback()
            row = conn.execute(queries.get("engine_is_superuser")).fetchone()
    allowed = bool(row and row[0])
    _may_set_temp[conn] = allowed
    return allowed


def opening(
    conn: psycopg.Connection[Any], begin_query: str, limits: Limits
) -> tuple[str, dict[str, str]]:
    """The text (our own, ASCII, no backslash) and parameters of the opening message."""
    parts = [queries.bare(begin_query), queries.bare("engine_pin_lexing")]
    parts.append(queries.bare("engine_set_limits"))
    if limits.work_mem_max_kb > 0:
        parts.append(queries.bare("engine_work_mem_ceiling"))
    if limits.temp_file_limit_kb > 0 and may_set_temp_file_limit(conn):
        parts.append(queries.bare("engine_temp_file_limit"))
    return "; ".join(parts), limit_params(limits)


def open_transaction(conn: psycopg.Connection[Any], begin_query: str, limits: Limits) -> None:
    """BEGIN, the lexing pins, the timeouts and the resource limits in one message.

    Simple protocol with values bound client-side (one round trip); the server lexes the whole
    message before running it, so the text is ours and has nothing a lexing setting changes.
    The connection must be in autocommit mode.
    """
    text, params = opening(conn, begin_query, limits)
    with translated():
        psycopg.ClientCursor(conn).execute(text, params)


def pin(conn: psycopg.Connection[Any]) -> None:
    """The lexing pins inside a transaction psycopg opened (packaged-query paths)."""
    with translated():
        conn.execute(queries.get("engine_pin_lexing"))


def drift(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """{setting: current value} of the reported pins that no longer hold on this session."""
    changed: dict[str, str] = {}
    for name in REPORTED:
        raw = conn.info.parameter_status(name)
        value = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
        if value.lower() != PINNED[name].lower():
            changed[name] = value
    return changed


def sensitive(text: str) -> bool:
    """True when a lexing setting could change how the server reads `text`.

    standard_conforming_strings and backslash_quote only matter to a backslash; the client
    encoding only to characters outside ASCII (every client encoding PostgreSQL accepts
    encodes ASCII as ASCII).
    """
    return "\\" in text or not text.isascii()


def require_same_reading(
    conn: psycopg.Connection[Any], text: str, index: int | None = None
) -> None:
    """Refuse to send `text` if a pinned setting changed and the server would read it otherwise."""
    changed = drift(conn)
    if not changed or not sensitive(text):
        return
    what = ", ".join(f"{k} is now {v!r}" for k, v in sorted(changed.items()))
    where = f"statement {index + 1}" if index is not None else "this statement"
    raise Refused(
        f"refused: {where} was not sent because an earlier statement changed how the server "
        f"reads text ({what}); it would not run as it was checked",
        hint="set it back (e.g. SET standard_conforming_strings = on, SET client_encoding = "
        f"'UTF8') or start a new transaction; rule: {RULE}",
    )


# The access mode of the transaction executor.transaction or target_tx.begin opened on a connection.
_read_only: weakref.WeakKeyDictionary[psycopg.Connection[Any], bool] = weakref.WeakKeyDictionary()


def mark_opened(conn: psycopg.Connection[Any], read_only: bool | None) -> None:
    """Remember (None: forget) how the transaction open on `conn` was opened."""
    if read_only is None:
        _read_only.pop(conn, None)
    else:
        _read_only[conn] = read_only


def opened_read_only(conn: psycopg.Connection[Any]) -> bool:
    """True only while a transaction opened with BEGIN READ ONLY by this app is open on conn."""
    open_now = conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.ACTIVE)
    return open_now and _read_only.get(conn, False)


def require_read_only(conn: psycopg.Connection[Any], claimed: bool) -> None:
    """Refuse to run a statement the audit log would call read-only outside READ ONLY (A/Q1)."""
    if claimed and not opened_read_only(conn):
        raise Refused(
            "refused: the statement would be audited as read-only but its transaction is not "
            "READ ONLY",
            hint="this is a bug in the engine; nothing was run",
        )
