"""The one opener of target transactions, what it pins in its message, and the checks that keep it.

The classifier reads user text with pglast, which always lexes as PostgreSQL does with
`standard_conforming_strings = on`, `backslash_quote = safe_encoding` and UTF-8 text. A target
database or role may default to something else (`ALTER DATABASE ... SET standard_conforming_strings
= off`, `ALTER ROLE ... SET client_encoding = 'SJIS'`, where `¥` encodes to the byte 0x5c, a
backslash to the server), and then `'a\\' , pg_read_file(...) , '` is a string for the classifier
and a function call for the server (reliability Q12). So every transaction on a target opens through
`begin` (or `guarded`, its context manager): BEGIN [ISOLATION LEVEL ...] READ ONLY/READ WRITE, these
pins, the timeouts, the role's resource limits and any transaction-local settings go as one message,
and the access mode is remembered for `require_read_only`; `require_same_reading` refuses to send
text the server would now read differently because a statement of the same transaction changed a
pinned setting (standard_conforming_strings and client_encoding are GUC_REPORT: libpq already holds
their current values, no round trip). backslash_quote is not reported, but with UTF-8 pinned it can
only make text fail, never read differently. `temp_file_limit` is a superuser setting: it is sent
only when the login role may set it (`may_set_temp_file_limit`, asked once per connection).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.errors import ConfigError, Refused
from petcare_dba.messages import joined, say

# The values pglast assumes; https://www.postgresql.org/docs/current/runtime-config-compatible.html
PINNED = {
    "standard_conforming_strings": "on",
    "backslash_quote": "safe_encoding",
    "client_encoding": "UTF8",
}
# GUC_REPORT settings among them: the server tells libpq each change (ParameterStatus).
REPORTED = ("standard_conforming_strings", "client_encoding")
RULE = say("msg.target.rule.same_reading")

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


@dataclass(frozen=True)
class Timeouts:
    """Timeouts of a catalog, monitoring, explorer or COPY transaction (None: the server's own).

    0 means no limit, as in PostgreSQL (a backup may run for minutes).
    """

    statement_ms: int | None
    lock_ms: int | None = None
    idle_ms: int | None = None

    def settings(self) -> dict[str, str]:
        """{setting: value} of the timeouts that are set."""
        pairs = (
            ("statement_timeout", self.statement_ms),
            ("lock_timeout", self.lock_ms),
            ("idle_in_transaction_session_timeout", self.idle_ms),
        )
        return {name: str(ms) for name, ms in pairs if ms is not None}


# (read_only, isolation) -> the named BEGIN; the access mode is always explicit, so a target's
# default_transaction_read_only never decides what a transaction may do.
_BEGIN = {
    (True, None): "engine_begin_read_only",
    (False, None): "engine_begin_read_write",
    (True, "repeatable read"): "target_begin_repeatable_read_only",
}


def limit_params(limits: Limits, may_set_temp: bool = False) -> dict[str, str | None]:
    """Parameters of engine_guards: the timeouts, the work_mem ceiling (0: none) and the
    temp_file_limit (None unless the role has one and the login role may set it)."""
    return {
        "statement_timeout": str(limits.statement_timeout_ms),
        "lock_timeout": str(limits.lock_timeout_ms),
        "idle_timeout": str(limits.idle_in_transaction_timeout_ms),
        "work_mem_kb": str(max(0, limits.work_mem_max_kb)),
        "temp_file_limit": f"{limits.temp_file_limit_kb}kB" if may_set_temp else None,
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


def opening_parts(
    conn: psycopg.Connection[Any],
    begin_query: str,
    guard: Limits | Timeouts,
    settings: Mapping[str, str] | None = None,
) -> list[tuple[str, dict[str, str | None]]]:
    """The statements of the opening message, each with its parameters, in order.

    `Limits` (the engine's) send engine_guards: the lexing pins, the timeouts and the role's
    resource limits in one statement (a user's statement keeps the target's search_path, as in
    psql). `Timeouts`, the app's own work, send the pins, pg_catalog ahead of the search_path
    (target_catalog_first), then one transaction-local set_config per timeout; `settings` one
    set_config each; values always bound as parameters.
    `opening` joins them into one simple-protocol message; the engine's pipeline sends them as
    consecutive extended-protocol statements ahead of the user's (one round trip either way,
    and each statement fewer is one Parse/Bind/Execute fewer to write and read).
    """
    parts: list[tuple[str, dict[str, str | None]]] = [(queries.bare(begin_query), {})]
    local = dict(settings or {})
    if isinstance(guard, Limits):
        may_set_temp = guard.temp_file_limit_kb > 0 and may_set_temp_file_limit(conn)
        parts.append((queries.bare("engine_guards"), limit_params(guard, may_set_temp)))
    else:
        # The app's own reads and writes (explorer, backups, monitoring): built-ins first.
        parts.append((queries.bare("engine_pin_lexing"), {}))
        parts.append((queries.bare("target_catalog_first"), {}))
        local = {**guard.settings(), **local}
    template = sql.SQL(queries.bare("target_set_local"))
    for i, (name, value) in enumerate(local.items()):
        text = template.format(
            name=sql.Placeholder(f"set{i}_name"), value=sql.Placeholder(f"set{i}_value")
        ).as_string(conn)
        parts.append((text, {f"set{i}_name": name, f"set{i}_value": value}))
    return parts


def opening(
    conn: psycopg.Connection[Any],
    begin_query: str,
    guard: Limits | Timeouts,
    settings: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str | None]]:
    """The text (our own, ASCII, no backslash) and parameters of the opening message."""
    parts = opening_parts(conn, begin_query, guard, settings)
    params: dict[str, str | None] = {}
    for _, values in parts:
        params.update(values)
    return "; ".join(text for text, _ in parts), params


def begin_query(read_only: bool, isolation: str | None = None) -> str:
    """The name of the BEGIN that opens a transaction with this access mode and isolation."""
    try:
        return _BEGIN[(read_only, isolation)]
    except KeyError:
        raise ConfigError(f"no target transaction opens as {isolation!r}/{read_only}") from None


def begin(
    conn: psycopg.Connection[Any],
    guard: Limits | Timeouts,
    *,
    read_only: bool,
    isolation: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> None:
    """Open a target transaction: BEGIN, the pins, the guards and `settings` in one message.

    Simple protocol with values bound client-side (one round trip); the server lexes the whole
    message before running it, so the text is ours and has nothing a lexing setting changes.
    The connection must be in autocommit mode. The access mode is remembered (`opened_read_only`).
    """
    text, params = opening(conn, begin_query(read_only, isolation), guard, settings)
    with translated():
        psycopg.ClientCursor(conn).execute(text, params)
    mark_opened(conn, read_only)


def end(conn: psycopg.Connection[Any], *, commit: bool) -> None:
    """COMMIT (or ROLLBACK) the transaction `begin` opened."""
    mark_opened(conn, None)
    with translated():
        conn.execute(queries.get("editor_tx_commit" if commit else "editor_tx_rollback"))


def abandon(conn: psycopg.Connection[Any]) -> None:
    """Best-effort ROLLBACK of a failed transaction (a broken connection has none to end)."""
    mark_opened(conn, None)
    if not conn.closed and not conn.broken:
        with contextlib.suppress(psycopg.Error):
            conn.execute(queries.get("editor_tx_rollback"))


@contextmanager
def guarded(
    conn: psycopg.Connection[Any],
    guard: Limits | Timeouts,
    *,
    read_only: bool,
    isolation: str | None = None,
    settings: Mapping[str, str] | None = None,
    rollback: bool = False,
) -> Iterator[psycopg.Connection[Any]]:
    """`begin`, then COMMIT on success and ROLLBACK on error (always, with `rollback`).

    `rollback=True` is for work that must never stay: EXPLAIN ANALYZE of a writing statement,
    a what-if index, a preview's TEMP table.
    """
    begin(conn, guard, read_only=read_only, isolation=isolation, settings=settings)
    try:
        yield conn
    except BaseException:
        abandon(conn)
        raise
    end(conn, commit=not rollback)


def set_local(conn: psycopg.Connection[Any], name: str, value: str) -> None:
    """set_config(name, value, true) in the open transaction (name and value bound, not pasted)."""
    template = sql.SQL(queries.bare("target_set_local"))
    statement = template.format(name=sql.Placeholder("name"), value=sql.Placeholder("value"))
    with translated():
        conn.execute(statement, {"name": name, "value": value})


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
    what = joined(
        (
            say("msg.target.drift.setting", name=k, value=repr(v))
            for k, v in sorted(changed.items())
        ),
        ", ",
    )
    where = (
        say("msg.target.drift.statement", n=index + 1)
        if index is not None
        else say("msg.target.drift.this_statement")
    )
    raise Refused(
        say("msg.sql.refused", message=say("msg.target.drift", where=where, what=what)),
        hint=say("msg.target.drift.hint", rule=RULE),
    )


@contextmanager
def savepoint(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A SAVEPOINT inside the transaction `begin` opened, never a transaction of its own.

    psycopg's `conn.transaction()` would send a bare BEGIN on an idle connection, without the
    pins and timeouts; here it only ever nests.
    """
    if conn.info.transaction_status != TransactionStatus.INTRANS:
        raise ConfigError("a savepoint needs the transaction the opener began")
    with conn.transaction():
        yield


# The access mode of the transaction `begin` opened on a connection.
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
    require_opened_as(opened_read_only(conn), claimed)


def require_opened_as(read_only: bool, claimed: bool) -> None:
    """`require_read_only` for a transaction not open yet: the one about to open as `read_only`."""
    if claimed and not read_only:
        raise Refused(
            "refused: the statement would be audited as read-only but its transaction is not "
            "READ ONLY",
            hint="this is a bug in the engine; nothing was run",
        )
