"""A parsed EXPLAIN plan read for drawing: a tree, its hot nodes, its row misses, two compared.

Pure functions over `ExplainResult` (the engine's `explain.parse_plan` of PostgreSQL's
`FORMAT JSON` output); nothing here reads a database. `tree` gives each node its parent, a
label, its own time (ANALYZE) or own cost, the rows PostgreSQL estimated and the rows it got,
its share of the whole plan and two flags: `hot` (a large share of the plan's time, or of its
cost without ANALYZE) and `miss` (the estimate was off by `MISS_FACTOR` or more either way, the
usual sign of stale statistics or a correlated filter). `compare` sets two plans side by side:
totals, and the node kinds and relations each one has that the other does not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from petcare_dba.services.sql import ExplainResult

HOT_SHARE = 20.0  # percent of the plan's self time (or self cost) that makes a node hot
MISS_FACTOR = 10.0  # estimate vs actual rows, either way


@dataclass(frozen=True)
class PlanRow:
    """One node of a plan tree, ready to draw."""

    index: int
    parent: int | None
    depth: int
    label: str
    node_type: str
    relation: str | None
    detail: str
    self_ms: float | None
    total_ms: float | None  # inclusive, all loops
    self_cost: float
    total_cost: float
    plan_rows: float
    actual_rows: float | None
    loops: int | None
    share: float
    hot: bool
    miss: float | None  # how many times off the estimate was, when MISS_FACTOR or more

    @property
    def miss_text(self) -> str:
        """'×12 under' / '×40 over' (the estimate against the actual rows), or ''."""
        if self.miss is None or self.actual_rows is None:
            return ""
        way = "under" if self.actual_rows > self.plan_rows else "over"
        return f"×{self.miss:.0f} {way}"


@dataclass(frozen=True)
class Summary:
    """What a plan adds up to."""

    analyzed: bool
    nodes: int
    total_cost: float
    execution_ms: float | None
    planning_ms: float | None
    hot: int
    misses: int
    kinds: Counter[str]


@dataclass(frozen=True)
class Comparison:
    """Two plans side by side: their summaries and what differs."""

    left: Summary
    right: Summary
    only_left: tuple[str, ...]  # node kinds (with relation) the right plan no longer has
    only_right: tuple[str, ...]
    cost_ratio: float | None  # right / left
    time_ratio: float | None  # right / left, both ANALYZE only


def miss_factor(plan_rows: float, actual_rows: float | None) -> float | None:
    """How many times off the estimate was (both rounded up to 1 row), or None without ANALYZE.

    Both figures are per loop in PostgreSQL's output, so loops cancel out.
    """
    if actual_rows is None:
        return None
    est, got = max(plan_rows, 1.0), max(actual_rows, 1.0)
    return max(est / got, got / est)


def _label(node_type: str, relation: str | None) -> str:
    return f"{node_type} on {relation}" if relation else node_type


def tree(result: ExplainResult) -> list[PlanRow]:
    """The plan's nodes in display order, each with its parent, figures and flags."""
    rows: list[PlanRow] = []
    stack: list[int] = []  # indices of the open ancestors, by depth
    for n in result.nodes:
        del stack[n.depth :]
        parent = stack[-1] if stack else None
        stack.append(n.index)
        factor = miss_factor(n.plan_rows, n.actual_rows)
        total_ms = None
        if n.actual_total_ms is not None:
            total_ms = round(n.actual_total_ms * (n.loops or 1), 3)
        rows.append(
            PlanRow(
                index=n.index,
                parent=parent,
                depth=n.depth,
                label=_label(n.node_type, n.relation),
                node_type=n.node_type,
                relation=n.relation,
                detail=n.detail,
                self_ms=n.self_ms,
                total_ms=total_ms,
                self_cost=n.self_cost,
                total_cost=n.total_cost,
                plan_rows=n.plan_rows,
                actual_rows=n.actual_rows,
                loops=n.loops,
                share=n.share,
                hot=n.share >= HOT_SHARE,
                miss=factor if factor is not None and factor >= MISS_FACTOR else None,
            )
        )
    return rows


def summary(result: ExplainResult) -> Summary:
    """Totals of one plan."""
    rows = tree(result)
    return Summary(
        analyzed=result.analyzed,
        nodes=len(rows),
        total_cost=rows[0].total_cost if rows else 0.0,
        execution_ms=result.execution_ms,
        planning_ms=result.planning_ms,
        hot=sum(r.hot for r in rows),
        misses=sum(r.miss is not None for r in rows),
        kinds=Counter(r.label for r in rows),
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a <= 0:
        return None
    return round(b / a, 3)


def compare(left: ExplainResult, right: ExplainResult) -> Comparison:
    """Set two plans side by side (e.g. before and after an index)."""
    a, b = summary(left), summary(right)
    return Comparison(
        left=a,
        right=b,
        only_left=tuple(sorted((a.kinds - b.kinds).elements())),
        only_right=tuple(sorted((b.kinds - a.kinds).elements())),
        cost_ratio=_ratio(a.total_cost, b.total_cost),
        time_ratio=_ratio(a.execution_ms, b.execution_ms),
    )
