"""The editor's plan reading (services/editor/plans.py) on plans a real PostgreSQL produced.

Each plan is captured through the engine's EXPLAIN on the test's target database, then read by
the pure functions: the tree's parents, the hot node by share of time, a row estimate that
PostgreSQL misses by far (two perfectly correlated columns: it assumes independence), and two
plans of one query compared before and after an index.
"""

from __future__ import annotations

from petcare_dba.services.actor import Actor
from petcare_dba.services.editor import plans
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import explain
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name


def _table(target: Target) -> None:
    target.execute("CREATE TABLE m AS SELECT g AS a, g AS b FROM generate_series(1, 20000) g")
    target.execute("ANALYZE m")


def test_tree_has_parents_hot_nodes_and_flags_a_row_miss(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    _table(target)
    result = explain.explain(
        rt,
        admin,
        "tgt",
        "SELECT x.a, count(*) FROM m x JOIN m y ON y.a = x.a WHERE x.a = x.b GROUP BY x.a",
        analyze=True,
    )
    rows = plans.tree(result)
    assert rows[0].parent is None and rows[0].depth == 0
    for r in rows[1:]:
        parent = rows[r.parent]  # type: ignore[index]
        assert parent.depth == r.depth - 1 and parent.index < r.index
    scan = next(r for r in rows if r.relation == "m x")
    # a = b keeps every row; PostgreSQL estimates 0.5 % of them (100 of 20000).
    assert scan.actual_rows == 20000 and scan.plan_rows < 2000
    assert scan.miss is not None and scan.miss >= plans.MISS_FACTOR
    assert scan.miss_text.startswith("×") and scan.miss_text.endswith("under")
    assert all(r.miss is None for r in rows if r.relation == "m y")  # its estimate holds
    assert any(r.hot for r in rows)
    assert all(r.share >= plans.HOT_SHARE for r in rows if r.hot)
    assert all(r.total_ms is not None and r.self_ms is not None for r in rows)
    summary = plans.summary(result)
    assert summary.analyzed and summary.misses >= 1 and summary.nodes == len(rows)


def test_plain_explain_has_costs_and_no_misses(rt: Runtime, admin: Actor, target: Target) -> None:
    _table(target)
    result = explain.explain(rt, admin, "tgt", "SELECT * FROM m WHERE a = b ORDER BY a")
    rows = plans.tree(result)
    assert all(r.actual_rows is None and r.miss is None and r.total_ms is None for r in rows)
    assert rows[0].total_cost >= rows[-1].total_cost > 0
    assert [r.label for r in rows] == ["Sort", "Seq Scan on m"]
    assert any(r.hot for r in rows)  # by share of cost without ANALYZE


def test_compare_two_plans_before_and_after_an_index(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    _table(target)
    query = "SELECT * FROM m WHERE a = 42"
    before = explain.explain(rt, admin, "tgt", query, analyze=True)
    target.execute("CREATE INDEX m_a ON m (a)")
    target.execute("ANALYZE m")
    after = explain.explain(rt, admin, "tgt", query, analyze=True)
    diff = plans.compare(before, after)
    assert diff.only_left == ("Seq Scan on m",)
    assert len(diff.only_right) == 1 and "Index" in diff.only_right[0]
    assert diff.cost_ratio is not None and diff.cost_ratio < 0.5
    assert diff.time_ratio is not None and diff.left.execution_ms is not None


def test_miss_factor_both_ways_and_without_analyze() -> None:
    assert plans.miss_factor(100, 1000) == 10
    assert plans.miss_factor(1000, 100) == 10
    assert plans.miss_factor(0, 0) == 1  # an empty estimate met is no miss
    assert plans.miss_factor(5, None) is None
