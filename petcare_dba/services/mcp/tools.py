"""The MCP tools: each resolves its token's scope and the connection's AI consent, then calls
the same services the UI and the CLI call, and is audited as `mcp.call` with its token id.

`call` is the one way in: it authenticates the token (constant time; the call counted against
the token's rate limit), runs the tool as the token's actor (the lower of the token's maximum
role and the user's role), and records one audit row per call, refused or not. A connection the
token may not use reads exactly like one that does not exist (no enumeration). run_query goes
through `engine.run` with that role, so viewers take the read-only path (READ ONLY transaction,
least-privilege credential); a token below analyst is also refused here, before the engine, for
anything the classifier does not call read-only. Consent: `schema` for structure and the
advisor, `stats` for plans, metrics, alerts and index suggestions, `data` for rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from petcare_dba.errors import NotFound, PetcareError, Refused, redact
from petcare_dba.services import advisor, alerts, connections, explorer, monitoring
from petcare_dba.services.assistant import CONSENT_LEVELS
from petcare_dba.services.connections import Connection
from petcare_dba.services.mcp.tokens import Principal, authenticate
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine, explain

MAX_ROWS = 1000
MAX_TABLES = 500
CONSENT = {
    "list_connections": "none",
    "list_tables": "schema",
    "describe_table": "schema",
    "schema": "schema",
    "get_advisor_findings": "schema",
    "explain_query": "stats",
    "get_metrics": "stats",
    "get_alerts": "stats",
    "suggest_indexes": "stats",
    "run_query": "data",
}


@dataclass(frozen=True)
class Call:
    """One tool call as it reached us: the tool, its arguments and the bearer token."""

    tool: str
    args: dict[str, Any]
    token: str


def call(rt: Runtime, request: Call, session: str = "mcp") -> Any:
    """Authenticate, run and audit one call; PetcareError carries what the caller may see."""
    who = authenticate(rt, request.token, session=session)  # AuthError / QuotaExceeded
    started = time.perf_counter()
    conn_id: int | None = None
    outcome, error = "ok", None
    try:
        fn = _TOOLS.get(request.tool)
        if fn is None:
            raise NotFound(f"there is no tool named {request.tool!r}")
        name = request.args.get("connection")
        conn = _connection(rt, who, str(name)) if name is not None else None
        conn_id = conn.id if conn else None
        if conn is not None:
            _consent(conn, request.tool)
        result = fn(rt, who, conn, **{k: v for k, v in request.args.items() if k != "connection"})
        # Rows hold dates, decimals, bytes...: the client gets JSON, so each becomes its text.
        return json.loads(json.dumps(result, default=_text)) if isinstance(result, dict) else result
    except PetcareError as exc:
        outcome = "refused" if isinstance(exc, Refused | NotFound) else "error"
        error = redact(exc.message)
        raise
    finally:
        sql = request.args.get("sql")
        audit.record(
            rt.store,
            who.actor,
            "mcp.call",
            outcome,
            connection_id=conn_id,
            target=request.tool,
            sql_text=sql.replace("\x00", "\\x00") if isinstance(sql, str) else None,
            ai_initiated=True,
            detail={
                "token_id": who.token_id,
                "transport": session,
                "error": error,
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


def _text(value: object) -> str:
    """A value JSON has no type for, as text (bytea as PostgreSQL writes it: \\x hex)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def _connection(rt: Runtime, who: Principal, name: str) -> Connection:
    """A connection the token may use; any other name gets the same NotFound (no enumeration)."""
    try:
        conn = connections.get(rt, who.actor, name)
    except NotFound:
        conn = None
    if conn is None or (who.connection_ids is not None and conn.id not in who.connection_ids):
        raise NotFound(f"no connection {name[:64]!r} is available to this token")
    return conn


def _consent(conn: Connection, tool: str) -> None:
    need = CONSENT.get(tool, "data")
    if CONSENT_LEVELS.index(conn.ai_consent) < CONSENT_LEVELS.index(need):
        raise Refused(
            f"{tool} needs AI consent '{need}' on this connection (it is '{conn.ai_consent}'); "
            "an admin can change it"
        )


def _need(conn: Connection | None) -> Connection:
    if conn is None:
        raise Refused("this tool needs a connection")
    return conn


def list_connections(rt: Runtime, who: Principal, conn: Connection | None) -> dict[str, Any]:
    found = [
        c
        for c in connections.list_connections(rt, who.actor)
        if who.connection_ids is None or c.id in who.connection_ids
    ]
    return {
        "role": who.actor.role,
        "connections": [
            {
                "name": c.name,
                "read_only": c.read_only,
                "ai_consent": c.ai_consent,
                "description": c.description,
            }
            for c in found
        ],
    }


def list_tables(
    rt: Runtime, who: Principal, conn: Connection | None, schema: str = "", name_contains: str = ""
) -> dict[str, Any]:
    catalog = explorer.discover(rt, who.actor, _need(conn).name)
    found = [
        {"table": r.qualified, "kind": r.kind, "estimated_rows": r.estimated_rows}
        for r in catalog.top_level()
        if (not schema or r.schema == schema)
        and (not name_contains or name_contains.lower() in r.name.lower())
    ]
    return {"tables": found[:MAX_TABLES], "total": len(found)}


def describe_table(
    rt: Runtime, who: Principal, conn: Connection | None, table: str
) -> dict[str, Any]:
    schema, name = explorer.split_name(table)
    try:
        detail = explorer.describe(rt, who.actor, _need(conn).name, schema, name)
    except (IndexError, KeyError) as exc:  # no such relation: the head query found no row
        raise NotFound(f"no table {table[:128]!r} (use list_tables)") from exc
    return {
        "table": f"{detail.schema}.{detail.name}",
        "kind": detail.kind,
        "columns": list(detail.columns),
        "constraints": list(detail.constraints),
        "indexes": list(detail.indexes),
        "ddl": detail.ddl,
    }


def schema_text(rt: Runtime, who: Principal, conn: Connection | None) -> str:
    """The `schema://{connection}` resource: one line per table with its columns."""
    catalog = explorer.discover(rt, who.actor, _need(conn).name)
    return "\n".join(
        f"{r.qualified} ({', '.join(r.columns)})" for r in catalog.top_level()[:MAX_TABLES]
    )


def run_query(rt: Runtime, who: Principal, conn: Connection | None, sql: str) -> dict[str, Any]:
    name = _need(conn).name
    if not who.actor.at_least("analyst"):
        # The server's own refusal; the engine's read-only path would refuse it too.
        found = engine.classify(sql)
        if not found or any(not c.read_only and not c.depends_on for c in found):
            raise Refused(f"a {who.actor.role} token runs read-only statements only")
    result = engine.run(rt, who.actor, name, sql, max_rows=MAX_ROWS).raise_for_error()
    return {
        "read_only": result.read_only,
        "committed": result.committed,
        "results": [
            {
                "command": q.command_tag,
                "columns": list(q.columns),
                "rows": [list(r) for r in q.rows],
                "row_count": q.row_count,
                "truncated": q.truncated,
            }
            for q in result.results
        ],
    }


def explain_query(rt: Runtime, who: Principal, conn: Connection | None, sql: str) -> dict[str, Any]:
    result = explain.explain(rt, who.actor, _need(conn).name, sql)
    return {"statement": result.statement, "plan": result.raw}


def get_advisor_findings(rt: Runtime, who: Principal, conn: Connection | None) -> dict[str, Any]:
    found = advisor.run(rt, who.actor, _need(conn).name).findings
    keys = ("name", "level", "object", "detail", "remediation")
    return {
        "findings": [{k: getattr(f, k) for k in keys} for f in found[:100]],
        "total": len(found),
    }


def get_metrics(rt: Runtime, who: Principal, conn: Connection | None) -> dict[str, Any]:
    verdicts = monitoring.verdicts(rt, who.actor, _need(conn).name)
    return {
        "verdicts": [
            {"area": v.area, "level": v.level, "metric": v.metric, "value": v.value, "unit": v.unit}
            for v in verdicts
        ]
    }


def get_alerts(
    rt: Runtime, who: Principal, conn: Connection | None, state: str = "firing"
) -> dict[str, Any]:
    if state not in ("firing", "resolved"):
        raise Refused("state is 'firing' or 'resolved'")
    stats = CONSENT_LEVELS.index("stats")
    allowed = {
        c["name"]
        for c in list_connections(rt, who, None)["connections"]
        if CONSENT_LEVELS.index(c["ai_consent"]) >= stats
    }
    events = alerts.history(
        rt, who.actor, state=state, connection=conn.name if conn else None, limit=100
    )
    return {
        "alerts": [
            {
                "rule": e.rule,
                "connection": e.connection,
                "severity": e.severity,
                "state": e.state,
                "message": e.message,
                "started_at": e.started_at.isoformat(),
            }
            for e in events
            if e.connection is None or e.connection in allowed
        ]
    }


def suggest_indexes(rt: Runtime, who: Principal, conn: Connection | None) -> dict[str, Any]:
    found = advisor.indexes.suggest(rt, who.actor, _need(conn).name)
    return {
        "suggestions": [
            {
                "query": s.query,
                "calls": s.calls,
                "mean_ms": s.mean_ms,
                "create_sql": s.create_sql,
                "cost_before": s.cost_before,
                "cost_after": s.cost_after,
                "gain_pct": s.gain_pct,
                "verified_by": s.verified_by,
                "note": s.note,
            }
            for s in found
        ]
    }


_TOOLS: dict[str, Callable[..., Any]] = {
    "list_connections": list_connections,
    "list_tables": list_tables,
    "describe_table": describe_table,
    "schema": schema_text,
    "run_query": run_query,
    "explain_query": explain_query,
    "get_advisor_findings": get_advisor_findings,
    "get_metrics": get_metrics,
    "get_alerts": get_alerts,
    "suggest_indexes": suggest_indexes,
}
