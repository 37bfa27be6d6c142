"""An entry point above the engine: EXPLAIN (ANALYZE) through `engine.run`, parsed into a tree.

`explain` wraps one statement in `EXPLAIN (FORMAT JSON[, ANALYZE, BUFFERS])` and runs it with
`engine.run`, so it gets the same classification, decision, audit rows and guards as running the
statement: EXPLAIN ANALYZE of a DELETE needs the DELETE's permission and confirmation, and it
runs inside a transaction that is rolled back (`rollback=True`), so nothing it did stays.
`parse_plan` flattens the JSON plan into `PlanNode`s in display order with each node's exclusive
("self") time for ANALYZE, or exclusive cost otherwise, and marks the costliest ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from petcare_dba.errors import DatabaseError, Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, front, plan, record, wrap

HOT_NODES = 3  # how many of the costliest nodes are marked
_CHILD_KEYS = ("Plans",)


@dataclass(frozen=True)
class PlanNode:
    """One node of a plan, in depth-first display order."""

    index: int
    depth: int
    node_type: str
    relation: str | None
    detail: str
    startup_cost: float
    total_cost: float
    plan_rows: float
    actual_rows: float | None
    actual_total_ms: float | None
    loops: int | None
    self_cost: float
    self_ms: float | None
    share: float  # percent of the whole plan's self metric (time for ANALYZE, cost otherwise)
    hot: bool


@dataclass(frozen=True)
class ExplainResult:
    """A parsed plan and the raw JSON PostgreSQL returned."""

    nodes: tuple[PlanNode, ...]
    raw: Any
    analyzed: bool
    rolled_back: bool
    planning_ms: float | None
    execution_ms: float | None
    statement: str

    @property
    def raw_json(self) -> str:
        return json.dumps(self.raw, indent=2)


def explain_text(sql_text: str, *, analyze: bool) -> str:
    """The EXPLAIN statement for exactly one statement of `sql_text` (ValidationError otherwise).

    The composed text is parsed again and must be one EXPLAIN whose inner tree is exactly the
    statement that was classified (`wrap.prove_explain`, reliability Q13).
    """
    statements, found = plan.analyse(sql_text)
    if found and found[0].parse_error is not None:
        raise ValidationError(say("msg.sql.explain.unparsed", problem=found[0].parse_error))
    if len(found) != 1:
        raise ValidationError(
            say("msg.sql.explain.one", n=len(found)), hint=say("msg.sql.explain.one.hint")
        )
    statement = found[0].text.strip().rstrip(";").strip()
    if statement.split(None, 1)[0].upper() == "EXPLAIN":
        raise ValidationError(say("msg.sql.explain.bare"), hint=say("msg.sql.explain.bare.hint"))
    options = "FORMAT JSON, ANALYZE, BUFFERS" if analyze else "FORMAT JSON"
    # A newline before the statement keeps a leading comment from swallowing the options.
    composed = f"EXPLAIN ({options})\n{statement}"
    if statements:
        names = {"format", "analyze", "buffers"} if analyze else {"format"}
        wrap.prove_explain(composed, statements[0].node, names)
    return composed


def explain(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    *,
    analyze: bool = False,
    confirmed: bool = False,
    handle: engine.CancelHandle | None = None,
) -> ExplainResult:
    """Plan (or run and time, rolled back) one statement; same decisions and audit as running it.

    Raises Refused / NeedsConfirmation like `engine.run`, and the statement's error if it fails.
    """
    # The one front half's first steps: the connection and the text check (a refused text is
    # on record); the statement then runs through engine.run, which takes the rest.
    _, ctx = front.context(rt, actor, connection_name, detail={"explain": True})
    ctx = front.take(ctx, sql_text)
    try:
        text = explain_text(sql_text, analyze=analyze)
    except (ValidationError, Refused) as exc:
        found = engine.classify(sql_text)  # audited once, like the engine would
        outcome = "refused" if isinstance(exc, Refused) else "error"
        if found:
            record.decided(ctx, found[0], outcome, text=sql_text, error=exc)
        raise
    result = engine.run(
        rt,
        actor,
        connection_name,
        text,
        confirmed=confirmed,
        max_rows=10,
        handle=handle,
        rollback=analyze,
    ).raise_for_error()
    if not result.results or not result.results[0].rows:
        raise DatabaseError(say("msg.sql.explain.no_plan"))
    raw = result.results[0].rows[0][0]
    if isinstance(raw, str):
        raw = json.loads(raw)
    return parse_plan(raw, statement=text, analyzed=analyze)


def parse_plan(raw: Any, *, statement: str = "", analyzed: bool | None = None) -> ExplainResult:
    """Flatten EXPLAIN (FORMAT JSON) output into PlanNodes with the costliest marked."""
    top = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(top, Mapping) or "Plan" not in top:
        raise ValidationError(say("msg.sql.explain.not_plan"))
    if analyzed is None:
        analyzed = "Execution Time" in top
    flat: list[dict[str, Any]] = []
    _walk(top["Plan"], 0, flat)
    metric = "self_ms" if analyzed else "self_cost"
    total = sum(max(0.0, float(n[metric] or 0.0)) for n in flat) or 1.0
    ranked = sorted(range(len(flat)), key=lambda i: -(flat[i][metric] or 0.0))
    hot = {i for i in ranked[:HOT_NODES] if (flat[i][metric] or 0.0) > 0}
    nodes = tuple(
        PlanNode(
            **n,
            share=round(100.0 * max(0.0, float(n[metric] or 0.0)) / total, 1),
            hot=i in hot,
        )
        for i, n in enumerate(flat)
    )
    return ExplainResult(
        nodes,
        raw,
        analyzed,
        analyzed,
        _float(top.get("Planning Time")),
        _float(top.get("Execution Time")),
        statement,
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _walk(node: Mapping[str, Any], depth: int, out: list[dict[str, Any]]) -> tuple[float, float]:
    """Append `node` and its children; returns (inclusive cost, inclusive time x loops)."""
    index = len(out)
    entry: dict[str, Any] = {
        "index": index,
        "depth": depth,
        "node_type": str(node.get("Node Type", "?")),
        "relation": _relation(node),
        "detail": _detail(node),
        "startup_cost": float(node.get("Startup Cost", 0.0)),
        "total_cost": float(node.get("Total Cost", 0.0)),
        "plan_rows": float(node.get("Plan Rows", 0.0)),
        "actual_rows": _float(node.get("Actual Rows")),
        "actual_total_ms": _float(node.get("Actual Total Time")),
        "loops": int(node["Actual Loops"]) if "Actual Loops" in node else None,
    }
    out.append(entry)
    children: Sequence[Mapping[str, Any]] = [c for k in _CHILD_KEYS for c in node.get(k, ())]
    child_cost = 0.0
    child_time = 0.0
    for child in children:
        cost, spent = _walk(child, depth + 1, out)
        child_cost += cost
        child_time += spent
    # Costs are per execution and inclusive of children, so the node's own share is the
    # difference; actual time is per loop, hence the multiplication by loops.
    entry["self_cost"] = round(max(0.0, entry["total_cost"] - child_cost), 2)
    spent_here = None
    if entry["actual_total_ms"] is not None:
        spent_here = entry["actual_total_ms"] * (entry["loops"] or 1)
        entry["self_ms"] = round(max(0.0, spent_here - child_time), 3)
    else:
        entry["self_ms"] = None
    return entry["total_cost"], spent_here or 0.0


def _relation(node: Mapping[str, Any]) -> str | None:
    name = node.get("Relation Name") or node.get("CTE Name") or node.get("Function Name")
    if name is None:
        return None
    schema = node.get("Schema")
    alias = node.get("Alias")
    text = f"{schema}.{name}" if schema else str(name)
    return f"{text} {alias}" if alias and alias != name else text


def _detail(node: Mapping[str, Any]) -> str:
    parts = []
    for key in ("Index Name", "Join Type", "Strategy", "Index Cond", "Hash Cond", "Filter"):
        if node.get(key):
            parts.append(f"{key}: {node[key]}")
    if node.get("Rows Removed by Filter"):
        parts.append(f"removed by filter: {node['Rows Removed by Filter']}")
    return "; ".join(parts)
