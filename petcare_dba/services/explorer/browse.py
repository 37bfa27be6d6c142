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
sort and bound filter values, and is audited. The catalog's values (`Catalog`, `Relation`, ...)
and how they are built from rows live in `catalog`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import explorer as db
from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import slots
from petcare_dba.services.explorer import catalog
from petcare_dba.services.explorer import ddl as explorer_ddl
from petcare_dba.services.explorer.catalog import Catalog
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

OPERATORS = db.OPERATORS


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


def discover(rt: Runtime, actor: Actor, connection_name: str, *, refresh: bool = False) -> Catalog:
    """Every schema, relation, function and extension of the connection (cached)."""
    found = connections.for_run(rt, actor, connection_name)
    g = _guards(rt, actor, found)
    parts = (connection_name, g.url)
    build = functools.partial(catalog.from_value, connection_name)
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
    return catalog.from_value(connection_name, value)


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
