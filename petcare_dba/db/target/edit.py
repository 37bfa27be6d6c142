"""The statements of an inline table edit (issue 19), composed with quoted identifiers.

The explorer's grid edits rows as text (the sample reads every column `::text`), and an edit goes
to the SQL engine as script text, so the user sees and confirms exactly what runs and the engine
classifies and audits it like anything typed in the editor. The text is composed here, the one
layer that holds psycopg: identifiers through `sql.Identifier` (quotes, semicolons and `%` in a
name stay inside its double quotes) and every value through `sql.Literal`, an untyped string
constant PostgreSQL reads as the column's type, so a value that looks like SQL stays a value.

Rows are found by their primary key. An UPDATE also carries the original text of each column it
changes (`col::pg_catalog.text IS NOT DISTINCT FROM 'old'`), so when someone else changed the
row since it was read, the UPDATE matches no row and the caller can say so (optimistic check).
The comparison is on the text form because that is what the grid read, and because some types
(json, point) have no equality operator.
"""

from __future__ import annotations

from collections.abc import Mapping

from psycopg import sql

Values = Mapping[str, str | None]


def _name(schema: str, name: str) -> sql.Composable:
    return sql.Identifier(schema, name)


def _equal(column: str, value: str | None) -> sql.Composable:
    if value is None:
        return sql.SQL("{} IS NULL").format(sql.Identifier(column))
    return sql.SQL("{} = {}").format(sql.Identifier(column), sql.Literal(value))


def _unchanged(column: str, value: str | None) -> sql.Composable:
    return sql.SQL("{}::pg_catalog.text IS NOT DISTINCT FROM {}").format(
        sql.Identifier(column), sql.Literal(value)
    )


def _where(key: Values, original: Values) -> sql.Composable:
    parts = [_equal(c, v) for c, v in key.items()]
    parts += [_unchanged(c, v) for c, v in original.items()]
    return sql.SQL(" AND ").join(parts)


def update(schema: str, name: str, key: Values, changes: Values, original: Values) -> str:
    """UPDATE of one row found by `key`, only while the changed columns still hold `original`."""
    assigned = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Literal(v)) for c, v in changes.items()
    )
    return (
        sql.SQL("UPDATE {} SET {} WHERE {}")
        .format(_name(schema, name), assigned, _where(key, original))
        .as_string(None)
    )


def insert(schema: str, name: str, row: Values) -> str:
    """INSERT of one row (the columns left out take their defaults)."""
    if not row:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES").format(_name(schema, name)).as_string(None)
    return (
        sql.SQL("INSERT INTO {} ({}) VALUES ({})")
        .format(
            _name(schema, name),
            sql.SQL(", ").join(sql.Identifier(c) for c in row),
            sql.SQL(", ").join(sql.Literal(v) for v in row.values()),
        )
        .as_string(None)
    )


def delete(schema: str, name: str, key: Values) -> str:
    """DELETE of one row found by `key`."""
    return (
        sql.SQL("DELETE FROM {} WHERE {}")
        .format(_name(schema, name), _where(key, {}))
        .as_string(None)
    )
