"""The database explorer: discovery, search, table detail with DDL, sample rows, FK neighbourhood.

`discover` reads a whole target database in a constant number of catalog queries (four, in one
READ ONLY snapshot; `Catalog.round_trips` says how many statements it took) and keeps the rows
in the runtime's cache (`services.cache`: in-process or Redis) for `explorer_cache_ttl_s`;
`refresh=True` reads again and `invalidate(rt, connection_id)` drops the connection's entries on
every instance — the SQL engine calls it after DDL. The cache is checked only after
`connections.for_run`, so a user who may not use a connection never reaches its entry; the
entry is keyed by connection and credential, and holds catalog metadata only, never rows. `describe`
reads one table (columns, constraints, indexes, triggers, policies, grants, FK edges) and
generates its DDL (`explorer_ddl`). `sample` pages through rows on the server, read-only, with
sort and bound filter values, and is audited.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import explorer as db
from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import slots
from petcare_dba.services.explorer import ddl as explorer_ddl
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

OPERATORS = db.OPERATORS
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


@dataclass(frozen=True)
class TableDetail:
    """One relation in full, with its generated DDL."""

    schema: str
    name: str
    kind: str
    head: dict[str, Any]
    columns: tuple[dict[str, Any], ...]
    constraints: tuple[dict[str, Any], ...]
    indexes: tuple[dict[str, Any], ...]
    triggers: tuple[dict[str, Any], ...]
    policies: tuple[dict[str, Any], ...]
    grants: tuple[dict[str, Any], ...]
    foreign_keys: tuple[dict[str, Any], ...]
    ddl: str
    server_version_num: int
    round_trips: int


def invalidate(rt: Runtime, connection_id: int) -> None:
    """Forget what every instance cached about a connection (call after DDL ran on it)."""
    rt.cache.invalidate(connection_id)


def guards(rt: Runtime, actor: Actor, connection_name: str) -> db.Guards:
    """Where and how an explorer read of this connection runs (checks the user may use it)."""
    return _guards(rt, actor, connections.for_run(rt, actor, connection_name))


def _guards(rt: Runtime, actor: Actor, found: connections.Target) -> db.Guards:
    # Viewers browse as the least-privilege credential (issue 12, Q3).
    url = connections.credential_for(rt, actor, found, read_path=actor.role == "viewer")[0]
    return db.Guards(
        url,
        target.application_name(actor.username, actor.session_id),
        slot=functools.partial(slots.hold, rt, actor, found.id),
        statement_timeout_ms=rt.settings.statement_timeout_ms or 30000,
        lock_timeout_ms=rt.settings.lock_timeout_ms or 5000,
        connect_timeout=rt.settings.connect_timeout_s,
    )


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


def _catalog(name: str, value: dict[str, Any]) -> Catalog:
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


def discover(rt: Runtime, actor: Actor, connection_name: str, *, refresh: bool = False) -> Catalog:
    """Every schema, relation, function and extension of the connection (cached)."""
    found = connections.for_run(rt, actor, connection_name)
    g = _guards(rt, actor, found)
    parts = (connection_name, g.url)
    build = functools.partial(_catalog, connection_name)
    if not refresh:
        cached = rt.cache.get("catalog", found.id, parts, build)
        if cached is not None:
            return cached
    generation = rt.cache.generation(found.id)
    started = time.perf_counter()
    batch = db.read_batch(g, db.DISCOVERY)
    value = {
        "rows": {name: batch.rows[name] for name in db.DISCOVERY},
        "read_at": time.time(),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        "round_trips": batch.round_trips,
    }
    rt.cache.put(
        "catalog",
        found.id,
        parts,
        value,
        generation=generation,
        ttl_s=float(rt.settings.explorer_cache_ttl_s),
    )
    return _catalog(connection_name, value)


def split_name(table: str, default_schema: str = "public") -> tuple[str, str]:
    """'schema.table' or 'table' (in `default_schema`) -> (schema, table); no quoting rules."""
    schema, _, name = table.rpartition(".")
    return (schema or default_schema, name)


def describe(
    rt: Runtime, actor: Actor, connection_name: str, schema: str, name: str
) -> TableDetail:
    """Columns, constraints, indexes, triggers, policies, grants, FK edges and DDL of a relation."""
    batch = db.read_table(guards(rt, actor, connection_name), schema, name)
    rows = batch.rows
    head = dict(rows["explorer_table_head"][0])
    kind = {
        "r": "table",
        "p": "partitioned table",
        "v": "view",
        "m": "materialized view",
        "f": "foreign table",
        "S": "sequence",
    }.get(head["relkind"], head["relkind"])
    return TableDetail(
        schema,
        name,
        kind,
        head,
        tuple(rows["explorer_columns"]),
        tuple(rows["explorer_constraints"]),
        tuple(rows["explorer_indexes"]),
        tuple(rows["explorer_triggers"]),
        tuple(rows["explorer_policies"]),
        tuple(rows["explorer_grants"]),
        tuple(rows["explorer_fk_neighbours"]),
        explorer_ddl.generate(rows),
        int(head["server_version_num"]),
        batch.round_trips,
    )


def sample(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    detail: TableDetail,
    *,
    page: int = 0,
    page_rows: int | None = None,
    sort: str | None = None,
    descending: bool = False,
    filters: Sequence[tuple[str, str, str | None]] = (),
) -> db.Page:
    """One page of the relation's rows (read-only, timeouts, bound filters), audited."""
    size = int(page_rows or rt.settings.explorer_page_rows)
    columns = [c["name"] for c in detail.columns]
    target_name = f"{detail.schema}.{detail.name}"
    started = time.perf_counter()
    info = {"page": page, "sort": sort, "descending": descending, "filters": len(filters)}
    try:
        result = db.sample(
            guards(rt, actor, connection_name),
            detail.schema,
            detail.name,
            columns,
            sort=sort,
            descending=descending,
            filters=filters,
            limit=size,
            offset=page * size,
        )
    except PetcareError as exc:
        audit.record(
            rt.store,
            actor,
            "explorer.sample",
            "error",
            target=f"{connection_name}:{target_name}",
            sqlstate=exc.sqlstate,
            detail={**info, "error": exc.message},
        )
        raise
    audit.record(
        rt.store,
        actor,
        "explorer.sample",
        "ok",
        target=f"{connection_name}:{target_name}",
        rows_affected=len(result.rows),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        detail=info,
    )
    return result


def neighbourhood_dot(detail: TableDetail) -> str:
    """The table's foreign-key neighbourhood as Graphviz DOT (edges point at referenced tables)."""
    me = f"{detail.head['qualified']}"

    def node(name: str) -> str:
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "digraph fk {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#eef4fb"];',
    ]
    lines.append(f'  {node(me)} [fillcolor="#c7dcf5", penwidth=2];')
    for fk in detail.foreign_keys:
        label = ", ".join(fk["from_columns"]) + " → " + ", ".join(fk["to_columns"])
        lines.append(f"  {node(fk['from_table'])} -> {node(fk['to_table'])} [label={node(label)}];")
    lines.append("}")
    return "\n".join(lines)
