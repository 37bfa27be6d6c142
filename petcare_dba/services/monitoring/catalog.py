"""Read-only views of a target database's catalog and statistics for the dashboard pages.

Queries are named (sql/catalog.sql), schema-qualified, ordered, and run in READ ONLY
transactions with a statement timeout under an application_name naming the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from petcare_dba.db import target
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    kind: str
    estimated_rows: int
    total_bytes: int
    rls_enabled: bool
    comment: str | None


def _read(
    rt: Runtime, actor: Actor, conn_name: str, query: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    with connections.held(rt, actor, conn_name) as url:
        return target.read(
            url,
            target.application_name(actor.username, actor.session_id),
            query,
            params,
            connect_timeout=rt.settings.connect_timeout_s,
        )


def list_tables(
    rt: Runtime, actor: Actor, conn_name: str, schema: str | None = None
) -> list[TableInfo]:
    """Relations of the target database with sizes (one catalog query)."""
    return [TableInfo(**r) for r in _read(rt, actor, conn_name, "list_tables", {"schema": schema})]


def activity(rt: Runtime, actor: Actor, conn_name: str) -> list[dict[str, Any]]:
    """Sessions by state with the longest active query's age."""
    return _read(rt, actor, conn_name, "activity_by_state")


def database_stats(rt: Runtime, actor: Actor, conn_name: str) -> dict[str, Any]:
    """Cumulative pg_stat_database counters of the target database."""
    rows = _read(rt, actor, conn_name, "database_stats")
    return rows[0] if rows else {}
