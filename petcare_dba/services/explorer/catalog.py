"""The explorer's catalog of a database as values: relations, functions, extensions, search.

`Catalog` is one discovery of a target database (its schemas, relations with their partitions,
functions and extensions) and answers the explorer's lookups and searches in memory;
`from_value` builds it from the rows of the discovery queries as the cache keeps them, and
`relations_from_rows` turns relation rows into `Relation`s, a partitioned table summing its
partitions' rows and sizes. It is apart from `browse` (which reads the target, caches and audits)
because it is pure: no connection, no runtime, so the cache and the benches build it from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("table", "partitioned table", "view", "materialized view", "foreign table", "sequence")


@dataclass(frozen=True)
class Relation:
    """A table, partition, view, materialised view, foreign table or sequence."""

    schema: str
    name: str
    kind: str
    parent: str | None
    estimated_rows: int | None
    table_bytes: int | None
    index_bytes: int | None
    toast_bytes: int | None
    owner: str
    rls_enabled: bool
    rls_forced: bool
    last_vacuum: datetime | None
    last_analyze: datetime | None
    comment: str | None
    columns: tuple[str, ...]
    column_comments: str | None = None
    partitions: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def total_bytes(self) -> int | None:
        parts = (self.table_bytes, self.index_bytes, self.toast_bytes)
        return None if self.table_bytes is None else sum(p or 0 for p in parts)


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: str
    result: str | None
    kind: str
    language: str
    owner: str
    security_definer: bool
    comment: str | None


@dataclass(frozen=True)
class Extension:
    name: str
    version: str
    schema: str
    comment: str | None


@dataclass(frozen=True)
class SearchHit:
    schema: str
    name: str
    kind: str
    matched: str  # name, column or comment
    detail: str


@dataclass(frozen=True)
class Catalog:
    """One discovery of a target database."""

    connection: str
    schemas: tuple[dict[str, Any], ...]
    relations: tuple[Relation, ...]
    functions: tuple[Function, ...]
    extensions: tuple[Extension, ...]
    read_at: float
    elapsed_ms: float
    round_trips: int
    _by_name: dict[str, Relation] = field(default_factory=dict, repr=False, compare=False)

    def top_level(self, schema: str | None = None) -> list[Relation]:
        """Relations that are not partitions (partitions are listed under their parent)."""
        return [
            r for r in self.relations if r.parent is None and (schema is None or r.schema == schema)
        ]

    def get(self, schema: str, name: str) -> Relation | None:
        return self._by_name.get(f"{schema}.{name}")

    def search(self, text: str, limit: int = 200) -> list[SearchHit]:
        """Relations and functions whose name, column names or comments contain `text`."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits: list[SearchHit] = []
        for r in self.relations:
            if needle in r.qualified.lower():
                hits.append(SearchHit(r.schema, r.name, r.kind, "name", r.qualified))
            elif cols := [c for c in r.columns if needle in c.lower()]:
                hits.append(SearchHit(r.schema, r.name, r.kind, "column", ", ".join(cols)))
            elif needle in f"{r.comment or ''} {r.column_comments or ''}".lower():
                hits.append(
                    SearchHit(
                        r.schema, r.name, r.kind, "comment", r.comment or r.column_comments or ""
                    )
                )
            if len(hits) >= limit:
                return hits
        for f in self.functions:
            if needle in f"{f.schema}.{f.name}".lower() or needle in (f.comment or "").lower():
                hits.append(SearchHit(f.schema, f.name, f.kind, "name", f"{f.name}({f.arguments})"))
                if len(hits) >= limit:
                    break
        return hits


def relations_from_rows(rows: list[dict[str, Any]]) -> tuple[Relation, ...]:
    children: dict[str, list[str]] = {}
    for r in rows:
        if r["parent_name"] is not None:
            children.setdefault(f"{r['parent_schema']}.{r['parent_name']}", []).append(
                f"{r['schema']}.{r['name']}"
            )
    by_key = {f"{r['schema']}.{r['name']}": r for r in rows}
    out = []
    for r in rows:
        key = f"{r['schema']}.{r['name']}"
        parent = f"{r['parent_schema']}.{r['parent_name']}" if r["parent_name"] else None
        sizes: Sizes = (
            r["estimated_rows"],
            r["table_bytes"],
            r["index_bytes"],
            r["toast_bytes"],
        )
        if r["kind"] == "partitioned table":
            sizes = _over_partitions(key, children, by_key)
        out.append(
            Relation(
                r["schema"],
                r["name"],
                r["kind"],
                parent,
                *sizes,
                r["owner"],
                r["rls_enabled"],
                r["rls_forced"],
                max((v for v in (r["last_vacuum"], r["last_autovacuum"]) if v), default=None),
                max((v for v in (r["last_analyze"], r["last_autoanalyze"]) if v), default=None),
                r["comment"],
                tuple(r["columns"]),
                r["column_comments"],
                tuple(children.get(key, ())),
            )
        )
    return tuple(out)


_SIZES = ("estimated_rows", "table_bytes", "index_bytes", "toast_bytes")
# Rows and bytes (table, index, TOAST) of a relation; None where the catalog does not know.
Sizes = tuple[int | None, int | None, int | None, int | None]


def _over_partitions(
    key: str, children: dict[str, list[str]], by_key: dict[str, dict[str, Any]]
) -> Sizes:
    """A partitioned table holds no rows itself: its rows and sizes are its partitions' sums.

    Sub-partitioned children count through their own leaves. A figure is None only when no
    partition knows it (never analysed), like a plain table's.
    """
    totals: list[int | None] = [None] * len(_SIZES)
    stack = list(children.get(key, ()))
    while stack:
        child = stack.pop()
        row = by_key.get(child)
        if row is None:
            continue
        if row["kind"] == "partitioned table":
            stack.extend(children.get(child, ()))
            continue
        for i, name in enumerate(_SIZES):
            if row[name] is not None:
                totals[i] = (totals[i] or 0) + row[name]
    return (totals[0], totals[1], totals[2], totals[3])


def from_value(name: str, value: dict[str, Any]) -> Catalog:
    """A Catalog from a discovery as cached: the discovery queries' rows and its timings."""
    rows = value["rows"]
    relations = relations_from_rows(rows["explorer_relations"])
    return Catalog(
        name,
        tuple(rows["explorer_schemas"]),
        relations,
        tuple(Function(**f) for f in rows["explorer_functions"]),
        tuple(Extension(**e) for e in rows["explorer_extensions"]),
        value["read_at"],
        value["elapsed_ms"],
        value["round_trips"],
        {r.qualified: r for r in relations},
    )
