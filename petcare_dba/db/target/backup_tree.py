"""Backing up and restoring a whole table tree: an ordinary table, or a partitioned table with
every partition (sub-partitioned ones included), in one snapshot and one transaction.

`copy_tree_out` reads the column definitions, the structure and the partition tree, then COPYs
every leaf into its own file (`data.copy` for an ordinary table, `part-NNNN.copy` for the leaves
of a tree), all inside one REPEATABLE READ READ ONLY snapshot, so the members agree with each
other. `restore_tree` rebuilds in ONE transaction: a new tree (parent with its NOT NULL,
defaults, identity and serial sequences; partitions with their recorded bounds; rows; then
primary key, unique, exclusion and check constraints and, on request, the other indexes), or
the rows of the existing tree (locked, checked to have the recorded members and bounds,
truncated, reloaded). Row counts and per-leaf checksums are compared before COMMIT; any
failure rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db.errors import translated
from petcare_dba.db.target import backup_structure as st
from petcare_dba.db.target import guards
from petcare_dba.db.target.backup import (
    Loaded,
    Progress,
    copy_table_to_file,
    load_file,
    table_checksum,
    timeouts,
)
from petcare_dba.db.target.backup_columns import Column, column_defs_later, column_parts
from petcare_dba.db.target.connect import connect
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say


@dataclass(frozen=True)
class Tree:
    """What `copy_tree_out` wrote: column definitions, members (leaves with files), structure."""

    columns: tuple[Column, ...]
    members: tuple[st.Member, ...]
    structure: st.Structure
    rows: int
    bytes: int


@dataclass(frozen=True)
class Placed:
    """A recorded member and where a restore puts it (its data file, for a leaf)."""

    member: st.Member
    schema: str
    table: str
    file: Path | None = None

    @property
    def name(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


@dataclass(frozen=True)
class Names:
    """New names of what a restore into a new table recreates (old name -> new name)."""

    constraints: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    sequences: dict[str, str] = field(default_factory=dict)  # column -> its serial sequence


def data_file(index: int, partitioned: bool) -> str:
    """The file of a leaf: `data.copy` for an ordinary table, `part-NNNN.copy` in a tree."""
    return f"part-{index:04d}.copy" if partitioned else "data.copy"


def copy_tree_out(
    url: str,
    app_name: str,
    schema: str,
    table: str,
    columns: Sequence[Column],
    folder: Path,
    *,
    progress: Progress | None = None,
    expected_bytes: int = 0,
    lock_timeout_ms: int = 5000,
    connect_timeout: int = 10,
) -> Tree:
    """COPY every leaf of the table's tree into `folder` in one snapshot; what was written."""
    conn = connect(url, app_name, connect_timeout, autocommit=True)
    snapshot = guards.guarded(
        conn, timeouts(lock_timeout_ms), read_only=True, isolation="repeatable read"
    )
    with conn, translated(), snapshot:
        # The whole catalogue read is one pipeline, one round trip (on a far link each costs
        # the link's latency). Types before qualify: recorded as a restore's search_path
        # resolves them.
        with conn.pipeline():
            defs_sent = column_defs_later(conn, schema, table)
            generated_sent = column_defs_later(conn, schema, table, generated=True)
            st.qualify(conn)
            members_sent = st.members_later(conn, schema, table)
            structure_sent = st.structure_later(conn, schema, table)
        defs, generated = defs_sent(), generated_sent()
        members = members_sent()
        structure = structure_sent(generated)
        tree = members[0].partitioned
        out: list[st.Member] = []
        rows = done = 0
        for i, m in enumerate(members):
            if m.partitioned:
                out.append(m)
                continue
            name = data_file(i, tree)
            n, size, sha = copy_table_to_file(
                conn, m.schema, m.table, columns, folder / name, progress, done, expected_bytes
            )
            out.append(replace(m, data_file=name, rows=n, bytes=size, sha256=sha))
            rows += n
            done += size
    return Tree(defs, tuple(out), structure, rows, done)


def restore_tree(
    url: str,
    app_name: str,
    placed: Sequence[Placed],
    columns: Sequence[Column],
    *,
    replace_rows: bool,
    structure: st.Structure | None = None,
    names: Names | None = None,
    with_indexes: bool = False,
    verify: bool = True,
    progress: Progress | None = None,
    lock_timeout_ms: int = 5000,
    connect_timeout: int = 10,
    statements: list[str] | None = None,
) -> Loaded:
    """Restore a tree in one transaction (new tables, or the existing tree's rows)."""
    log = statements if statements is not None else []
    root = placed[0]
    with (
        connect(url, app_name, connect_timeout, autocommit=True) as conn,
        translated(),
        guards.guarded(conn, timeouts(lock_timeout_ms), read_only=False),
    ):
        if replace_rows:
            _empty_existing(conn, placed, log)
        else:
            _create(conn, placed, columns, structure, names or Names(), log)
        rows = _load(conn, placed, columns, progress, verify, log)
        warnings: list[str] = []
        if not replace_rows and structure is not None:
            named = names or Names()
            keep = [c for c in structure.constraints if c.kind != "f"]
            st.add_constraints(conn, root.name, keep, named.constraints, log)
            if with_indexes:
                st.add_indexes(conn, root.name, structure.indexes, named.indexes, log)
        if replace_rows or (structure is not None and _has_sequences(structure)):
            moved, problems = st.advance_sequences(conn, root.schema, root.table)
            return Loaded(rows, moved, (*warnings, *problems))
    return Loaded(rows, (), tuple(warnings))


def _has_sequences(structure: st.Structure) -> bool:
    return any(c.identity or c.serial for c in structure.columns)


def _empty_existing(
    conn: psycopg.Connection[Any], placed: Sequence[Placed], log: list[str]
) -> None:
    """Lock the existing tree, check it is the recorded one, and empty it."""
    root = placed[0]
    st.run(conn, sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(root.name), log)
    if root.member.partitioned:
        st.qualify(conn)
        live = st.read_members(conn, root.schema, root.table)
        if not st.same_tree(live, [p.member for p in placed]):
            raise ValidationError(
                say("msg.target.tree_changed", table=f"{root.schema}.{root.table}"),
                hint=say("msg.target.tree_changed.hint"),
            )
        st.run(conn, sql.SQL("TRUNCATE {}").format(root.name), log)
    else:
        st.run(conn, sql.SQL("TRUNCATE ONLY {}").format(root.name), log)


def _create(
    conn: psycopg.Connection[Any],
    placed: Sequence[Placed],
    columns: Sequence[Column],
    structure: st.Structure | None,
    names: Names,
    log: list[str],
) -> None:
    """CREATE the new root (columns, NOT NULL, defaults, identity, serials) and its partitions."""
    root = placed[0]
    rules = {r.name: r for r in structure.columns} if structure else {}
    # Types and collations are resolved before anything is created: a refusal runs no DDL.
    parts = column_parts(conn, columns)
    generated = structure.generated if structure else ()
    gen_parts = column_parts(
        conn, [Column(g.name, g.type, g.collation, g.base, g.typmod) for g in generated]
    )
    seqs = (
        st.serial_sequences(conn, root.schema, structure.columns, names.sequences, log)
        if structure
        else {}
    )
    defs = [
        sql.SQL(" ").join([part, *st.column_clauses(rules.get(c.name), seqs.get(c.name))])
        for c, part in zip(columns, parts, strict=True)
    ]
    defs += [
        sql.SQL("{} {}").format(part, st.generated_clause(g))
        for g, part in zip(generated, gen_parts, strict=True)
    ]
    st.run(
        conn,
        sql.SQL("CREATE TABLE {} ({}){}").format(
            root.name, sql.SQL(", ").join(defs), _partition_by(root.member)
        ),
        log,
    )
    st.own_sequences(conn, root.schema, root.table, names.sequences, seqs, log)
    for p in placed[1:]:
        parent = placed[p.member.parent if p.member.parent is not None else 0]
        st.run(
            conn,
            sql.SQL("CREATE TABLE {} PARTITION OF {} {}{}").format(
                p.name, parent.name, sql.SQL(p.member.bound or "DEFAULT"), _partition_by(p.member)
            ),
            log,
        )


def _partition_by(member: st.Member) -> sql.Composable:
    if not member.partitioned or not member.key:
        return sql.SQL("")
    return sql.SQL(" PARTITION BY {}").format(sql.SQL(member.key))


def _load(
    conn: psycopg.Connection[Any],
    placed: Sequence[Placed],
    columns: Sequence[Column],
    progress: Progress | None,
    verify: bool,
    log: list[str],
) -> int:
    """COPY each leaf's file into its table; counts (and checksums) checked per leaf."""
    total = 0
    for p in placed:
        if p.member.partitioned or p.file is None:
            continue
        rows = load_file(conn, p.name, columns, p.file, progress, log)
        label = f"{p.schema}.{p.table}"
        if rows != p.member.rows:
            raise ValidationError(
                say("msg.target.leaf_rows_differ", rows=rows, table=label, expected=p.member.rows)
            )
        if verify:
            got = table_checksum(conn, p.schema, p.table, columns).sha256
            if got != p.member.sha256:
                raise ValidationError(
                    say("msg.target.leaf_checksum_differs", table=label),
                    detail=say("msg.target.checksums", expected=p.member.sha256, got=got),
                )
        total += rows
    return total
