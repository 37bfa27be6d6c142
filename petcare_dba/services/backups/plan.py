"""The plan of a restore: where each member goes, the names it gives, what it recreates.

A restore `--into NEW` renames every member and every schema-wide name it recreates, so the copy
can live beside the original in the same schema: a partition, constraint, index or serial
sequence whose name starts with the old table's name gets NEW in place of that prefix
(`measurements_2024_01` -> `NEW_2024_01`, `measurements_pkey` -> `NEW_pkey`); any other name
gets `NEW_` in front (`p_default` -> `NEW_p_default`). Names are cut to PostgreSQL's 63 bytes on
a character boundary and made unique with `_2`, `_3`, ... Every member goes into the schema of
NEW. A target name may be quoted the PostgreSQL way (`"My schema"."a.b"`), so names with dots,
quotes or spaces can be given; unquoted, the last dot separates schema and table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from petcare_dba.db.target import backup_structure as st
from petcare_dba.db.target import backup_tree as tree
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.services.backups import files

if TYPE_CHECKING:
    from petcare_dba.services.backups.catalogue import BackupEntry

LIMIT = 63  # NAMEDATALEN - 1, in bytes


def cut(name: str, limit: int = LIMIT) -> str:
    """`name` cut to `limit` UTF-8 bytes without splitting a character."""
    return name.encode("utf-8")[:limit].decode("utf-8", "ignore")


def renamed(name: str, old: str, new: str) -> str:
    """NEW in place of the old table's name prefix, else NEW_ in front; cut to 63 bytes."""
    if name.startswith(old) and len(name) > len(old):
        return cut(new + name[len(old) :])
    return cut(f"{new}_{name}")


def _unique(wanted: Iterable[str], taken: set[str]) -> list[str]:
    out: list[str] = []
    for name in wanted:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            suffix = f"_{n}"
            candidate = cut(name, LIMIT - len(suffix)) + suffix
        taken.add(candidate)
        out.append(candidate)
    return out


def placement(
    members: Sequence[st.Member], schema: str, table: str, files: Sequence[object]
) -> list[tree.Placed]:
    """Where each recorded member goes when restored into `schema.table`."""
    root = members[0].table
    others = _unique((renamed(m.table, root, table) for m in members[1:]), {table})
    return [
        tree.Placed(m, schema, name, f)  # type: ignore[arg-type]
        for m, name, f in zip(members, [table, *others], files, strict=True)
    ]


def for_structure(structure: st.Structure, old: str, new: str) -> tree.Names:
    """New names of the constraints, indexes and serial sequences of a restored copy."""
    constraints = [c.name for c in structure.constraints]
    indexes = [i.name for i in structure.indexes]
    serials = [c.name for c in structure.columns if c.serial and not c.identity]
    # Index-backed constraints, indexes and sequences share the schema's namespace: one pool.
    taken: set[str] = {new}
    new_constraints = _unique((renamed(n, old, new) for n in constraints), taken)
    new_indexes = _unique((renamed(n, old, new) for n in indexes), taken)
    new_seqs = _unique((cut(f"{new}_{c}_seq") for c in serials), taken)
    return tree.Names(
        dict(zip(constraints, new_constraints, strict=True)),
        dict(zip(indexes, new_indexes, strict=True)),
        dict(zip(serials, new_seqs, strict=True)),
    )


def _quoted(text: str) -> list[str]:
    """Split `"a""b".c` into identifiers (quoted parts keep case, dots and quotes)."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            j, buf = i + 1, []
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise ValidationError(say("msg.backups.unterminated", text=repr(text)))
                buf.append(text[j:k])
                if text[k + 1 : k + 2] == '"':
                    buf.append('"')
                    j = k + 2
                    continue
                break
            parts.append("".join(buf))
            i = k + 1
        else:
            k = text.find(".", i)
            k = len(text) if k < 0 else k
            parts.append(text[i:k])
            i = k
        if i < len(text):
            if text[i] != ".":
                raise ValidationError(say("msg.backups.expected_dot", text=repr(text)))
            i += 1
    return parts


def target_name(text: str, default_schema: str) -> tuple[str, str]:
    """'schema.table', 'table' or the quoted forms -> (schema, table)."""
    if '"' not in text:
        schema, _, name = text.rpartition(".")
        return (schema or default_schema, name)
    parts = _quoted(text)
    if len(parts) == 1:
        return default_schema, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValidationError(say("msg.backups.not_table_name", text=repr(text)))


@dataclass(frozen=True)
class Plan:
    """Where a restore puts each member, what it recreates and under which names."""

    placed: list[tree.Placed]
    structure: st.Structure | None
    names: tree.Names | None
    members: tuple[str, ...]
    recreated: tuple[str, ...]
    not_recreated: tuple[str, ...]


def plan(
    entry: BackupEntry,
    found: files.BackupFiles,
    schema: str,
    table: str,
    replace: bool,
    with_indexes: bool,
) -> Plan:
    """Where each member goes, the new names, and what is (not) recreated, said in words."""
    if not found.members:  # a backup from before 0022: one table, no structure recorded
        assert found.data is not None  # noqa: S101 - such backups always have their one file
        only = st.Member(entry.schema_name, entry.table_name, rows=entry.row_count)
        placed = [
            tree.Placed(dataclasses.replace(only, sha256=entry.sha256), schema, table, found.data)
        ]
        note = () if replace else ("constraints and defaults: not recorded by this old backup",)
        return Plan(placed, None, None, (), (), note)
    if replace:
        placed = [
            tree.Placed(m, m.schema, m.table, f)
            for m, f in zip(found.members, found.files, strict=True)
        ]
        return Plan(placed, None, None, _labels(placed), (), ())
    placed = placement(found.members, schema, table, found.files)
    structure = found.structure or st.Structure()
    named = for_structure(structure, entry.table_name, table)
    recreated = [f"generated column {g.name}" for g in structure.generated] + [
        f"{_KINDS[c.kind]} {named.constraints[c.name]}"
        for c in structure.constraints
        if c.kind != "f"
    ]
    skipped = [
        f"foreign key {c.name} ({c.definition}): add it by hand if the copy needs it"
        for c in structure.constraints
        if c.kind == "f"
    ]
    for i in structure.indexes:
        if not with_indexes:
            skipped.append(f"index {i.name}: not asked for (CLI --with-indexes, UI checkbox)")
        elif i.method is None:
            skipped.append(f"index {i.name}: its definition could not be read back")
        else:
            recreated.append(f"index {named.indexes[i.name]}")
    return Plan(placed, structure, named, _labels(placed), tuple(recreated), tuple(skipped))


_KINDS = {"p": "primary key", "u": "unique", "x": "exclusion", "c": "check"}


def _labels(placed: list[tree.Placed]) -> tuple[str, ...]:
    return tuple(f"{p.schema}.{p.table}" for p in placed[1:])
