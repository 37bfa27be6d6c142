"""One short-lived session on a target database for monitoring work: several named queries in
one transaction.

The collector, the advisor and the monitoring drill-downs need a handful of catalog queries per
round on one connection (not one connection per query, as `target.read` does), read-only by
default, with a statement timeout and optional settings (lexing and lock settings, the
search_path of an extension's schema) set with `set_config(..., true)` so they die with the
transaction. Rows come back as plain dicts; errors are translated at this boundary.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.target import guards
from petcare_dba.db.target.connect import connect


class TargetSession:
    """A transaction on a target database; `rows`/`row` run named queries or packaged text."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def rows(
        self, name_or_text: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """All rows of a named query (an identifier) or of packaged SQL text."""
        text = queries.get(name_or_text) if name_or_text.isidentifier() else name_or_text
        with translated():
            cur = self.conn.cursor(row_factory=dict_row)
            cur.execute(text.encode("utf-8"), params)  # packaged SQL only, never user input
            return cur.fetchall() if cur.description else []

    def row(self, name_or_text: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The first row (an empty dict when there is none)."""
        found = self.rows(name_or_text, params)
        return found[0] if found else {}

    def setting(self, name: str, value: str) -> None:
        """set_config(name, value, true): a transaction-local setting."""
        with translated():
            self.conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint, so one failing query (missing view, permission) spares the others."""
        with translated(), self.conn.transaction():
            yield


@contextmanager
def session(
    url: str,
    app_name: str,
    *,
    read_only: bool = True,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
    rollback: bool = False,
) -> Iterator[TargetSession]:
    """Open a connection, start one transaction (READ ONLY unless told), yield, commit/close.

    `rollback=True` always rolls back (what-if index checks run DDL that must never stay).
    """
    with connect(url, app_name, connect_timeout) as conn, translated():
        tx = conn.transaction(force_rollback=rollback)
        with tx:
            if read_only:
                conn.execute("SET TRANSACTION READ ONLY")
            guards.pin(conn)  # packaged text is read as it was written (Q12)
            conn.execute(
                "SELECT pg_catalog.set_config('statement_timeout', %s, true), "
                "pg_catalog.set_config('lock_timeout', %s, true)",
                (str(timeout_ms), str(min(timeout_ms, 5000))),
            )
            yield TargetSession(conn)


def backend_signal(
    url: str, app_name: str, pid: int, terminate: bool, connect_timeout: int = 10
) -> bool:
    """pg_cancel_backend / pg_terminate_backend on one pid; True when the signal was sent."""
    text = queries.get("mon_terminate_backend" if terminate else "mon_cancel_backend")
    with connect(url, app_name, connect_timeout, autocommit=True) as conn, translated():
        row = conn.execute(text.encode("utf-8"), {"pid": pid}).fetchone()
    return bool(row and row[0])


def execute_autocommit(url: str, app_name: str, text: str, connect_timeout: int = 10) -> None:
    """Run one statement outside a transaction (CREATE INDEX CONCURRENTLY needs that)."""
    with connect(url, app_name, connect_timeout, autocommit=True) as conn, translated():
        conn.execute(text.encode("utf-8"))
