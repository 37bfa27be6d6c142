"""Reads of the database explorer: catalog snapshots and paginated sample rows of one table.

Every read runs in one READ ONLY transaction (REPEATABLE READ, so the several catalog queries of a
discovery see one snapshot) opened by the one opener (`guards.guarded`), which sends BEGIN, the
lexing pins, the statement and lock timeouts and search_path = pg_catalog (so format_type and
pg_get_*def qualify every name) in one message. Discovery and table detail run a fixed list of named
queries (sql/explorer.sql), pipelined so that the whole list is one round trip: the cost does not
grow with the schema nor with the list (three round trips for discovery, four for a table's detail,
which first resolves its name; on a 50 ms link that is the difference between 0.2 s and 0.6 s).
`Batch.round_trips` counts the round trips, the opening one and COMMIT included. Sample rows
compose identifiers with `psycopg.sql.Identifier` only, filter values are bound parameters, and the
page is fetched with LIMIT/OFFSET on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.target import connect
from petcare_dba.db.target import guards as opener
from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say

DISCOVERY = ("explorer_schemas", "explorer_relations", "explorer_functions", "explorer_extensions")
DETAIL = (
    "explorer_table_head",
    "explorer_columns",
    "explorer_constraints",
    "explorer_indexes",
    "explorer_triggers",
    "explorer_policies",
    "explorer_grants",
    "explorer_owned_sequences",
    "explorer_fk_neighbours",
)
# Filter operators offered by the UI and the CLI; values are always bound parameters.
OPERATORS = ("=", "<>", "<", "<=", ">", ">=", "contains", "is null", "is not null")


@dataclass(frozen=True)
class Guards:
    """Connection and timeout settings of one explorer read."""

    url: str
    app_name: str
    statement_timeout_ms: int = 10000
    lock_timeout_ms: int = 3000
    connect_timeout: int = 10
    # Takes one of the user's max_connections_per_user slots for the read (F7).
    slot: Callable[[], AbstractContextManager[None]] = nullcontext


@dataclass(frozen=True)
class Batch:
    """Rows of each named query of one read, and how many statements it took."""

    rows: dict[str, list[dict[str, Any]]]
    round_trips: int


@dataclass(frozen=True)
class Page:
    """One page of sample rows, rendered as text (NULL stays None)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    has_more: bool


# Aggregating 100,000 column names spills to disk with the default 4MB; pg_catalog first makes
# format_type and pg_get_*def qualify every name.
_SETTINGS = {"search_path": "pg_catalog", "work_mem": "64MB"}


@contextmanager
def _open(guards: Guards) -> Iterator[psycopg.Connection[Any]]:
    """A REPEATABLE READ READ ONLY snapshot opened by the one opener (one message)."""
    timeouts = opener.Timeouts(guards.statement_timeout_ms, guards.lock_timeout_ms)
    with (
        guards.slot(),
        connect.connect(
            guards.url, guards.app_name, guards.connect_timeout, autocommit=True
        ) as conn,
        opener.guarded(
            conn, timeouts, read_only=True, isolation="repeatable read", settings=_SETTINGS
        ),
    ):
        yield conn


def pipelined(
    conn: psycopg.Connection[Any], names: Sequence[str], params: dict[str, Any] | None
) -> dict[str, list[dict[str, Any]]]:
    """Rows of each named query, all sent before any result is read: one round trip.

    An error in one query aborts the rest (the snapshot's transaction with them) and is raised
    when the pipeline syncs, as one translated error.
    """
    with conn.pipeline():
        cursors = [
            conn.cursor(row_factory=dict_row).execute(queries.get(name), params) for name in names
        ]
    return {name: cur.fetchall() for name, cur in zip(names, cursors, strict=True)}


def read_batch(guards: Guards, names: Sequence[str], params: dict[str, Any] | None = None) -> Batch:
    """Run named catalog queries in one READ ONLY snapshot (opening, the queries, COMMIT)."""
    with _open(guards) as conn, translated():
        out = pipelined(conn, names, params)
    return Batch(out, 3)


def read_table(guards: Guards, schema: str, name: str) -> Batch:
    """Resolve schema.name and read its detail queries in one snapshot (four round trips)."""
    with _open(guards) as conn, translated():
        cur = conn.cursor(row_factory=dict_row)
        found = cur.execute(
            queries.get("explorer_resolve"), {"schema": schema, "name": name}
        ).fetchone()
        if found is None:
            raise NotFound(say("msg.target.no_relation", name=f"{schema}.{name}"))
        out = {"explorer_resolve": [found], **pipelined(conn, DETAIL, {"oid": found["oid"]})}
    return Batch(out, 4)


def _no_column(schema: str, name: str, column: str) -> ValidationError:
    return ValidationError(say("msg.edit.no_column", name=f"{schema}.{name}", column=repr(column)))


def _filter(column: str, op: str, value: str | None) -> tuple[sql.Composable, list[Any]]:
    ident = queries.param_ident(column)
    if op == "is null":
        return sql.SQL("{} IS NULL").format(ident), []
    if op == "is not null":
        return sql.SQL("{} IS NOT NULL").format(ident), []
    if value is None:
        raise ValidationError(say("msg.target.filter_value", column=column))
    if op == "contains":
        # strpos, not LIKE: the user's % and _ are text, not wildcards.
        return sql.SQL(
            "pg_catalog.strpos(pg_catalog.lower({}::text), pg_catalog.lower(%s)) > 0"
        ).format(ident), [value]
    if op not in OPERATORS:
        raise ValidationError(
            say("msg.target.filter_operator", op=repr(op)), hint=", ".join(OPERATORS)
        )
    # The value goes as an untyped parameter, so PostgreSQL reads it as the column's type.
    return sql.SQL("{} " + op + " %s").format(ident), [value]


def sample(
    guards: Guards,
    schema: str,
    name: str,
    columns: Sequence[str],
    *,
    sort: str | None = None,
    descending: bool = False,
    filters: Sequence[tuple[str, str, str | None]] = (),
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """One page of rows of schema.name (columns as text), sorted and filtered on the server."""
    allowed = set(columns)
    for col in [sort] if sort else []:
        if col not in allowed:
            raise _no_column(schema, name, col)
    where: list[sql.Composable] = []
    params: list[Any] = []
    for column, op, value in filters:
        if column not in allowed:
            raise _no_column(schema, name, column)
        clause, values = _filter(column, op, value)
        where.append(clause)
        params.extend(values)
    # param_ident, not sql.Identifier: this query runs with parameters (a `%` in a name).
    select = sql.SQL(", ").join(sql.SQL("{}::text").format(queries.param_ident(c)) for c in columns)
    query = sql.SQL("SELECT {} FROM {}").format(select, queries.param_ident(schema, name))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    if sort:
        direction = sql.SQL("DESC NULLS LAST" if descending else "ASC NULLS LAST")
        # Qualified: a bare name would sort by the output column, which is its ::text.
        query += sql.SQL(" ORDER BY {} {}").format(
            queries.param_ident(schema, name, sort), direction
        )
    query += sql.SQL(" LIMIT %s OFFSET %s")
    params.extend([max(1, limit) + 1, max(0, offset)])
    with _open(guards) as conn, translated():
        cur = conn.cursor()
        cur.execute(query, params)
        rows = cur.fetchmany(max(1, limit) + 1)
    return Page(tuple(columns), tuple(tuple(r) for r in rows[:limit]), len(rows) > limit)
