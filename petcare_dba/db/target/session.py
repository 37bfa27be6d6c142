"""Short-lived reads and sessions on a target database: named queries only, in guarded transactions.

The collector, the advisor, the assistant and the monitoring drill-downs need a handful of
catalog queries per round on one connection, read-only by default, opened by the one opener
(`guards.guarded`: READ ONLY, statement and lock timeouts, the lexing pins, search_path =
pg_catalog) with optional custom settings (an extension's schema after pg_catalog) that die
with the transaction; a lint's thresholds come as bound parameters. Every query is called by
name: `TargetSession.rows` takes a name from `petcare_dba/sql/*.sql` (or, with `lint`, the
number_name of a packaged advisor lint) and refuses anything else, so SQL text from a service
never reaches a target this way. The what-if's PREPARE, EXPLAIN and index build are composed
here from named templates (`psycopg.sql`). Rows come back as plain dicts; errors are
translated at this boundary.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.target import guards
from petcare_dba.db.target.connect import connect
from petcare_dba.errors import ConfigError, NotFound, Refused

_LINT_FILE = re.compile(r"^\d{4}_[a-z0-9_]+$")
# The app's own reads resolve functions, operators and types in pg_catalog only: a target's
# owner who sets a search_path with their schema ahead of pg_catalog (ALTER DATABASE/ROLE ...
# SET search_path) would otherwise run their own `=`, now() or left() as the app's login role,
# often a more privileged one (CVE-2018-1058's pattern), on every collector round.
CATALOG_FIRST = {"search_path": "pg_catalog"}


def named(name: str) -> str:
    """The text of a named query; Refused for anything that is not one (raw SQL above all)."""
    if name.isidentifier():
        try:
            return queries.get(name)
        except ConfigError:
            pass
    raise Refused(
        f"refused: {name[:60]!r} is not a named query; nothing was sent",
        hint="target queries are called by name (-- name: blocks in petcare_dba/sql/*.sql)",
    )


def lint_text(file: str) -> str:
    """The SQL of the packaged advisor lint `NNNN_name` (petcare_dba/advisor/lints)."""
    path = resources.files("petcare_dba") / "advisor" / "lints" / f"{file}.sql"
    if not _LINT_FILE.match(file) or not path.is_file():
        raise NotFound(f"there is no advisor lint {file[:60]!r}")
    return path.read_text(encoding="utf-8")


class TargetSession:
    """A transaction on a target database; `rows`/`row`/`value` run named queries only."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def _fetch(
        self, text: str | sql.Composed, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        with translated():
            cur = self.conn.cursor(row_factory=dict_row)
            if isinstance(text, str):
                cur.execute(text.encode("utf-8"), params)  # packaged text, never user input
            else:
                cur.execute(text, params)
            return cur.fetchall() if cur.description else []

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All rows of a named query."""
        return self._fetch(named(name), params)

    def row(self, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The first row (an empty dict when there is none)."""
        found = self.rows(name, params)
        return found[0] if found else {}

    def value(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None when there is none)."""
        found = self.row(name, params)
        return next(iter(found.values())) if found else None

    def lint(self, file: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All rows of the packaged advisor lint `NNNN_name` (its thresholds bound as params)."""
        return self._fetch(lint_text(file), params)

    def setting(self, name: str, value: str) -> None:
        """set_config(name, value, true): a transaction-local setting."""
        guards.set_local(self.conn, name, value)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint, so one failing query (missing view, permission) spares the others."""
        with translated(), guards.savepoint(self.conn):
            yield

    def prepare(self, wrapped: str) -> None:
        """Send one PREPARE the caller proved (pglast) to wrap exactly its checked statement.

        Only text that `whatif_prepare` composed is accepted (the template's prefix), so this
        never becomes a way to send other SQL.
        """
        head = whatif_prepare("")
        if not wrapped.startswith(head) or len(wrapped) == len(head):
            raise Refused("refused: not a what-if PREPARE; nothing was sent")
        self._fetch(wrapped)

    def explain_prepared(self, params: int) -> dict[str, Any]:
        """EXPLAIN (FORMAT JSON) of the what-if's prepared statement, NULL for each parameter."""
        args = (
            sql.SQL("({})").format(sql.SQL(", ").join([sql.NULL] * params))
            if params
            else sql.SQL("")
        )
        found = self._fetch(sql.SQL(queries.bare("idx_whatif_explain")).format(args=args))
        return found[0] if found else {}

    def build_index(self, schema: str, table: str, columns: Sequence[str]) -> None:
        """CREATE INDEX on schema.table (columns): the what-if's real index, rolled back."""
        self._fetch(
            sql.SQL(queries.bare("idx_whatif_build_index")).format(
                table=sql.Identifier(schema, table),
                columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            )
        )


def whatif_prepare(statement: str) -> str:
    """`PREPARE petcare_whatif AS <statement>` from its named template (checked by the caller)."""
    return queries.bare("idx_whatif_prepare").replace("{query}", statement)


def sample_text(schema: str, table: str, limit: int) -> str:
    """`SELECT * FROM schema.table LIMIT n`, identifiers quoted by psycopg.sql (for the engine)."""
    return (
        sql.SQL(queries.bare("assistant_sample_rows"))
        .format(table=sql.Identifier(schema, table), limit=sql.Literal(max(0, int(limit))))
        .as_string(None)
    )


@contextmanager
def session(
    url: str,
    app_name: str,
    *,
    read_only: bool = True,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
    rollback: bool = False,
    users_path: bool = False,
) -> Iterator[TargetSession]:
    """Open a connection, start one guarded transaction (READ ONLY unless told), yield, close.

    `rollback=True` always rolls back (what-if index checks run DDL that must never stay).
    `users_path=True` keeps the target's own search_path, for a user's statement (a what-if,
    a generic plan) whose names mean what they meant to its author; such text is vetted
    (`trust.refusals`) under that same path before it is planned. Otherwise CATALOG_FIRST.
    """
    timeouts = guards.Timeouts(timeout_ms, min(timeout_ms, 5000))
    path = None if users_path else CATALOG_FIRST
    with (
        connect(url, app_name, connect_timeout, autocommit=True) as conn,
        guards.guarded(conn, timeouts, read_only=read_only, rollback=rollback, settings=path),
    ):
        yield TargetSession(conn)


def read(
    url: str,
    app_name: str,
    query_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
) -> list[dict[str, Any]]:
    """Run one named catalog query in a READ ONLY transaction with a statement timeout."""
    text = named(query_name)
    with (
        connect(url, app_name, connect_timeout, autocommit=True) as conn,
        guards.guarded(conn, guards.Timeouts(timeout_ms), read_only=True, settings=CATALOG_FIRST),
    ):
        return TargetSession(conn)._fetch(text, params)


def read_lint(
    url: str,
    app_name: str,
    file: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
) -> list[dict[str, Any]]:
    """Run one packaged advisor lint (`NNNN_name`) in a READ ONLY transaction."""
    text = lint_text(file)
    with (
        connect(url, app_name, connect_timeout, autocommit=True) as conn,
        guards.guarded(conn, guards.Timeouts(timeout_ms), read_only=True, settings=CATALOG_FIRST),
    ):
        return TargetSession(conn)._fetch(text, params)


def overview(url: str, app_name: str, connect_timeout: int = 10) -> dict[str, Any]:
    """Server version, database size, table count and round-trip time of a target."""
    started = time.perf_counter()
    with (
        connect(url, app_name, connect_timeout, autocommit=True) as conn,
        guards.guarded(conn, guards.Timeouts(10000), read_only=True),
    ):
        row = TargetSession(conn).row("target_overview")
    return {**row, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def backend_signal(
    url: str, app_name: str, pid: int, terminate: bool, connect_timeout: int = 10
) -> bool:
    """pg_cancel_backend / pg_terminate_backend on one pid; True when the signal was sent."""
    text = queries.get("mon_terminate_backend" if terminate else "mon_cancel_backend")
    with connect(url, app_name, connect_timeout, autocommit=True) as conn, translated():
        row = conn.execute(text.encode("utf-8"), {"pid": pid}).fetchone()
    return bool(row and row[0])


def execute_autocommit(url: str, app_name: str, text: str, connect_timeout: int = 10) -> None:
    """Run one statement outside a transaction (CREATE INDEX CONCURRENTLY needs that).

    The caller's text is a suggested CREATE INDEX CONCURRENTLY a dba confirmed (matched by the
    advisor's pattern and audited as sent); it cannot run inside a transaction block.
    """
    with connect(url, app_name, connect_timeout, autocommit=True) as conn, translated():
        conn.execute(text.encode("utf-8"))
