"""Table columns as a backup records them and as a restore recreates them, resolved by the server.

`Column` is a column as the backup's manifest and catalogue keep it (type text from format_type,
collation, and the base type and typmod a restore resolves); `column_defs` reads a table's
columns in that form (`column_defs_later` sends the query now and reads it later, so several
share a pipeline's round trip); `column_sql`/`column_parts` turn recorded columns into CREATE
TABLE definitions only after the target's catalogue resolves each type and collation to exactly
the recorded text, so no recorded text is ever pasted into DDL; `column_list` names them for
COPY. It is apart from `backup` (streaming COPY data to and from files) because it is the one
place recorded text meets DDL, shared by the table, tree and preview paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.target import guards
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say


@dataclass(frozen=True)
class Column:
    """A column as the backup records it (type text qualified by format_type).

    `base` (format_type without typmod) and `typmod` are what a restore resolves through the
    target's catalogue; backups made before they were recorded have neither.
    """

    name: str
    type: str
    collation: str | None = None
    base: str | None = None
    typmod: int | None = None


def column_defs(
    conn: psycopg.Connection[Any], schema: str, table: str, *, generated: bool = False
) -> tuple[Column, ...]:
    """The table's columns as the catalogue defines them (name, type, typmod): the stored ones,
    or with `generated` the generated ones."""
    return column_defs_later(conn, schema, table, generated=generated)()


def column_defs_later(
    conn: psycopg.Connection[Any], schema: str, table: str, *, generated: bool = False
) -> Callable[[], tuple[Column, ...]]:
    """Send the `column_defs` query now; the returned call reads its answer.

    In a pipeline, queries sent this way before any answer is read share one round trip.
    """
    cur = conn.execute(
        queries.bare("backup_column_defs"),
        {"table": sql.Identifier(schema, table).as_string(conn), "generated": generated},
    )
    return lambda: tuple(
        Column(name, type_, collation, base, typmod)
        for name, base, typmod, type_, collation in cur.fetchall()
    )


def _resolve(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> str | None:
    # to_regtype raises on a syntax error before PostgreSQL 16: a savepoint keeps the
    # transaction usable so the refusal is a clear message, not an aborted transaction.
    try:
        with guards.savepoint(conn):
            row = conn.execute(queries.bare(query), params).fetchone()
    except psycopg.Error:
        return None
    return None if row is None or row[0] is None else str(row[0])


def column_sql(conn: psycopg.Connection[Any], columns: Sequence[Column]) -> sql.Composable:
    """Column definitions for CREATE TABLE (see `column_parts`), joined."""
    return sql.SQL(", ").join(column_parts(conn, columns))


def column_parts(conn: psycopg.Connection[Any], columns: Sequence[Column]) -> list[sql.Composable]:
    """Each column's definition for CREATE TABLE, type and collation resolved by the server.

    Recorded text is never pasted into DDL: the type's base name goes through to_regtype and
    format_type (with the recorded typmod), the collation through to_regcollation and
    pg_collation, and the resolved text must equal what the backup recorded. Anything that
    names no type or collation — or a statement dressed as one — refuses the restore before
    any DDL runs.
    """
    defs: list[sql.Composable] = []
    for c in columns:
        base = c.base if c.base is not None else c.type
        typmod = c.typmod if c.typmod is not None else -1
        resolved = _resolve(conn, "backup_resolve_type", {"base": base, "typmod": typmod})
        if resolved is None or resolved != c.type:
            raise ValidationError(
                say("msg.target.type_unresolved", column=repr(c.name), type=repr(c.type)),
                hint=say("msg.target.type_unresolved.hint"),
            )
        part = sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(resolved))
        if c.collation:
            coll = _resolve(conn, "backup_resolve_collation", {"collation": c.collation})
            if coll is None or coll != c.collation:
                raise ValidationError(
                    say(
                        "msg.target.collation_unresolved",
                        column=repr(c.name),
                        collation=repr(c.collation),
                    )
                )
            part = sql.SQL("{} COLLATE {}").format(part, sql.SQL(coll))
        defs.append(part)
    return defs


def column_list(cols: Sequence[Column]) -> sql.Composable:
    """The columns' names as a COPY column list."""
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in cols)
