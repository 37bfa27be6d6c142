"""What a table backup records besides its rows, and the DDL a restore builds from it.

`Member` is one table of a partition tree (an ordinary table is a tree of one): its name, its
parent, its partition key and bounds, and for a leaf its data file and checksum. `Structure` is
what `restore --into` recreates: each column's NOT NULL, default, identity and owned serial
sequence, the primary key, unique, exclusion and check constraints, and the other indexes. Both
are read from the target's own catalog (pg_get_expr, pg_get_constraintdef, pg_get_indexdef,
pg_get_partkeydef) in the backup's snapshot with an empty search_path, so every name in the
recorded text is schema-qualified and means the same thing at restore time. They live in the
backup catalogue (migration 0022), never taken from a file on disk; identifiers are composed
with psycopg.sql, and every statement goes out alone in the extended protocol (`run`), so a
recorded definition can never carry a second statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translate
from petcare_dba.db.target import guards
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say

SERIAL_TYPES = frozenset({"smallint", "integer", "bigint"})


@dataclass(frozen=True)
class Member:
    """One table of a backed-up partition tree; `parent` is the index of its parent member."""

    schema: str
    table: str
    parent: int | None = None
    partitioned: bool = False
    key: str | None = None  # pg_get_partkeydef, for a partitioned member
    bound: str | None = None  # pg_get_expr(relpartbound): FOR VALUES ... or DEFAULT
    data_file: str | None = None  # leaves only
    rows: int | None = None
    bytes: int | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ColumnRule:
    """A column's NOT NULL, default, identity ('a', 'd' or '') and owned serial sequence type."""

    name: str
    not_null: bool = False
    default: str | None = None
    identity: str = ""
    serial: str | None = None


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # p, u, x, c, f
    definition: str


@dataclass(frozen=True)
class Index:
    name: str
    unique: bool
    method: str | None  # what follows USING in pg_get_indexdef; None: not recreatable


@dataclass(frozen=True)
class Generated:
    """A generated column: its type as a backup records any column, its expression and kind."""

    name: str
    type: str
    collation: str | None
    base: str | None
    typmod: int | None
    expression: str
    kind: str  # 's' stored, 'v' virtual (PostgreSQL 18)


@dataclass(frozen=True)
class Structure:
    """What `restore --into` recreates around the rows."""

    columns: tuple[ColumnRule, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    generated: tuple[Generated, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": [asdict(c) for c in self.columns],
            "constraints": [asdict(c) for c in self.constraints],
            "indexes": [asdict(i) for i in self.indexes],
            "generated": [asdict(g) for g in self.generated],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Structure:
        return cls(
            tuple(ColumnRule(**c) for c in data.get("columns", [])),
            tuple(Constraint(**c) for c in data.get("constraints", [])),
            tuple(Index(**i) for i in data.get("indexes", [])),
            tuple(Generated(**g) for g in data.get("generated", [])),
        )


def run(conn: psycopg.Connection[Any], statement: sql.Composable, log: list[str]) -> None:
    """Log and run one statement alone in the extended protocol (no second statement rides)."""
    log.append(statement.as_string(conn))
    conn.cursor().execute(statement, binary=True)  # type: ignore[call-overload]


def qualify(conn: psycopg.Connection[Any]) -> None:
    """Empty search_path for the rest of the transaction: catalog printers qualify every name."""
    guards.set_local(conn, "search_path", "")


def read_members(conn: psycopg.Connection[Any], schema: str, table: str) -> tuple[Member, ...]:
    """The table's partition tree, root first (an ordinary table: itself)."""
    return members_later(conn, schema, table)()


def members_later(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> Callable[[], tuple[Member, ...]]:
    """Send `read_members`' query now; the returned call reads and checks its answer."""
    name = sql.Identifier(schema, table).as_string(conn)
    cur = conn.execute(queries.bare("backup_members"), {"table": name})
    return lambda: _members(cur.fetchall())


def _members(rows: Sequence[tuple[Any, ...]]) -> tuple[Member, ...]:
    index: dict[tuple[str, str], int] = {}
    out: list[Member] = []
    for m_schema, m_table, p_schema, p_table, relkind, key, bound in rows:
        if relkind not in ("r", "p"):
            raise ValidationError(
                say("msg.target.partition_not_table", name=f"{m_schema}.{m_table}", relkind=relkind)
            )
        parent = index.get((p_schema, p_table)) if p_table is not None else None
        index[(m_schema, m_table)] = len(out)
        out.append(Member(m_schema, m_table, parent, relkind == "p", key, bound))
    return tuple(out)


def structure_later(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> Callable[[Sequence[Any]], Structure]:
    """Send the queries of NOT NULL, defaults, identity, constraints and indexes of the table
    now (in a pipeline: one round trip); the returned call reads them into a `Structure`.

    The caller empties search_path in the transaction first (`qualify`), so pg_get_expr and
    friends print every name schema-qualified. The call takes the generated columns'
    `backup.Column` definitions, read before that (types as a restore resolves them).
    """
    name = {"table": sql.Identifier(schema, table).as_string(conn)}
    sent = [
        conn.execute(queries.bare(query), name)
        for query in (
            "backup_structure_columns",
            "backup_structure_constraints",
            "backup_structure_indexes",
            "backup_structure_generated",
        )
    ]

    def read(generated_types: Sequence[Any]) -> Structure:
        columns, constraints, indexes, generated = (cur.fetchall() for cur in sent)
        types = {c.name: c for c in generated_types}
        return Structure(
            tuple(ColumnRule(n, bool(nn), d, i or "", s) for n, nn, d, i, s in columns),
            tuple(Constraint(*r) for r in constraints),
            tuple(Index(n, bool(u), m) for n, u, m in indexes),
            tuple(
                Generated(n, t.type, t.collation, t.base, t.typmod, expression, kind)
                for n, expression, kind in generated
                if (t := types.get(n)) is not None
            ),
        )

    return read


def generated_clause(g: Generated) -> sql.Composable:
    """GENERATED ALWAYS AS (expression) STORED | VIRTUAL."""
    return sql.SQL("GENERATED ALWAYS AS ({}) {}").format(
        sql.SQL(g.expression), sql.SQL("VIRTUAL" if g.kind == "v" else "STORED")
    )


def column_clauses(
    rule: ColumnRule | None, sequence: sql.Composable | None
) -> list[sql.Composable]:
    """What follows a column's type in CREATE TABLE: identity or default, and NOT NULL."""
    out: list[sql.Composable] = []
    if rule is None:
        return out
    if rule.identity in ("a", "d"):
        out.append(
            sql.SQL("GENERATED ALWAYS AS IDENTITY")
            if rule.identity == "a"
            else sql.SQL("GENERATED BY DEFAULT AS IDENTITY")
        )
    elif sequence is not None:
        out.append(sql.SQL("DEFAULT pg_catalog.nextval({}::regclass)").format(sequence))
    elif rule.default is not None:
        out.append(sql.SQL("DEFAULT ({})").format(sql.SQL(rule.default)))
    if rule.not_null:
        out.append(sql.SQL("NOT NULL"))
    return out


def serial_sequences(
    conn: psycopg.Connection[Any],
    schema: str,
    rules: Sequence[ColumnRule],
    names: dict[str, str],
    log: list[str],
) -> dict[str, sql.Composable]:
    """Create the new table's own serial sequences (column -> its quoted name as a literal).

    A serial column's default called a sequence its old table owned: the restored copy gets
    its own sequence (named `names[column]`), owned by the new column once the table exists
    and moved up to the restored maximum, so the copy never draws numbers from the original.
    """
    made: dict[str, sql.Composable] = {}
    for rule in rules:
        if rule.serial is None or rule.identity or rule.name not in names:
            continue
        if rule.serial not in SERIAL_TYPES:
            raise ValidationError(
                say("msg.target.not_sequence_type", column=repr(rule.name), type=repr(rule.serial))
            )
        seq = sql.Identifier(schema, names[rule.name])
        run(conn, sql.SQL("CREATE SEQUENCE {} AS {}").format(seq, sql.SQL(rule.serial)), log)
        made[rule.name] = sql.Literal(seq.as_string(conn))
    return made


def own_sequences(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    names: dict[str, str],
    made: dict[str, sql.Composable],
    log: list[str],
) -> None:
    """ALTER SEQUENCE ... OWNED BY the new column, so it goes when the table goes."""
    for column in made:
        run(
            conn,
            sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(
                sql.Identifier(schema, names[column]), sql.Identifier(schema, table, column)
            ),
            log,
        )


def add_constraints(
    conn: psycopg.Connection[Any],
    table: sql.Identifier,
    constraints: Sequence[Constraint],
    names: dict[str, str],
    log: list[str],
) -> None:
    """ALTER TABLE ... ADD CONSTRAINT each (primary key, unique, exclusion, check)."""
    for c in constraints:
        run(
            conn,
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                table, sql.Identifier(names[c.name]), sql.SQL(c.definition)
            ),
            log,
        )


def add_indexes(
    conn: psycopg.Connection[Any],
    table: sql.Identifier,
    indexes: Sequence[Index],
    names: dict[str, str],
    log: list[str],
) -> None:
    """CREATE [UNIQUE] INDEX each on the new table (on a partitioned one: every partition)."""
    for i in indexes:
        if i.method is None:
            continue
        run(
            conn,
            sql.SQL("CREATE {}INDEX {} ON {} USING {}").format(
                sql.SQL("UNIQUE " if i.unique else ""),
                sql.Identifier(names[i.name]),
                table,
                sql.SQL(i.method),
            ),
            log,
        )


def same_tree(live: Sequence[Member], recorded: Sequence[Member]) -> bool:
    """Whether the live partition tree has the members, keys and bounds the backup recorded."""

    def shape(ms: Sequence[Member]) -> list[tuple[Any, ...]]:
        return [(m.schema, m.table, m.parent, m.partitioned, m.key, m.bound) for m in ms]

    return shape(live) == shape(recorded)


def advance_sequences(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """setval each owned ascending sequence to its column's max when ahead; (moved, warnings).

    Each in a savepoint: a role that may TRUNCATE and COPY but not UPDATE the sequence still
    gets its rows back, with a warning saying which setval to run.
    """
    advanced: list[str] = []
    warnings: list[str] = []
    name = sql.Identifier(schema, table).as_string(conn)
    owned = conn.execute(queries.get("backup_owned_sequences"), {"table": name})
    for column, sequence in owned.fetchall():
        # Run with a parameter: names go through param_ident (a `%` in them is not a placeholder).
        statement = sql.SQL(queries.get("backup_advance_sequence")).format(
            column=queries.param_ident(column), table=queries.param_ident(schema, table)
        )
        try:
            with guards.savepoint(conn):
                moved = conn.execute(statement, {"sequence": sequence}).fetchone()
        except psycopg.Error as exc:
            warnings.append(
                f"sequence {sequence} was not advanced ({translate(exc).message}); its owner "
                f"should setval it to the largest {column} before the next insert"
            )
            continue
        if moved is not None:
            advanced.append(f"{sequence} -> {moved[0]}")
    return tuple(advanced), tuple(warnings)
