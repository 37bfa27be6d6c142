"""The SQL editor's visual EXPLAIN: the plan as a tree, hot nodes, row misses, two plans compared.

`show` draws the last outcome when it is a plan and returns whether it did: an icicle (Plotly)
where each node's width is its own time (EXPLAIN ANALYZE) or own cost and its colour its share
of the plan, then the indented tree as a table with time, rows (estimated and actual), cost,
the hot nodes marked and row estimates off by ×10 or more flagged with a note. Every plan of the
session is kept (the last `KEEP`), so two of them can be set side by side — before and after
an index, say. The reading is `services.editor.plans` (pure functions); this module draws.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from petcare_dba.services.editor import plans
from petcare_dba.services.sql import ExplainResult
from petcare_dba.ui import state
from petcare_dba.ui.components.format import decimal
from petcare_dba.ui.components.text import plain

t = state.t
KEEP = 10  # plans of this session offered for comparison


def remember(result: ExplainResult) -> None:
    """Keep `result` among the session's plans (once), newest last."""
    kept: list[tuple[str, ExplainResult]] = st.session_state.setdefault("ed_plans", [])
    if any(r is result for _, r in kept):
        return
    n = st.session_state.get("ed_plans_n", 0) + 1
    st.session_state["ed_plans_n"] = n
    statement = " ".join(result.statement.split("\n", 1)[-1].split())
    kind = t("editor.vplan.analyzed") if result.analyzed else t("editor.vplan.estimated")
    kept.append((f"#{n} · {kind} · {statement[:50]}", result))
    del kept[:-KEEP]


def icicle(result: ExplainResult) -> Any:
    """The plan as an icicle: width = own time (or own cost), colour = share of the plan."""
    rows = plans.tree(result)
    own = [(r.self_ms if result.analyzed else r.self_cost) or 0.0 for r in rows]
    fig = go.Figure(
        go.Icicle(
            ids=[str(r.index) for r in rows],
            parents=["" if r.parent is None else str(r.parent) for r in rows],
            labels=[f"{r.label} · {r.share:.0f}%" for r in rows],
            # A node with no time of its own would vanish: a sliver keeps it visible.
            values=[max(v, 1e-6) for v in own],
            branchvalues="remainder",
            marker={
                "colors": [r.share for r in rows],
                "colorscale": "Reds",
                "cmin": 0,
                "cmax": 100,
            },
            customdata=[
                [
                    r.total_ms if r.total_ms is not None else "",
                    r.plan_rows,
                    r.actual_rows if r.actual_rows is not None else "",
                    r.total_cost,
                    r.miss_text,
                ]
                for r in rows
            ],
            hovertemplate=(
                "%{label}<br>ms: %{customdata[0]}<br>rows est/actual: %{customdata[1]} / "
                "%{customdata[2]}<br>cost: %{customdata[3]}<br>%{customdata[4]}<extra></extra>"
            ),
            tiling={"orientation": "v"},
        )
    )
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0}, height=320)
    return fig


def table(result: ExplainResult) -> list[dict[str, Any]]:
    """The indented tree as table rows (one per node)."""
    rows = plans.tree(result)
    analyzed = result.analyzed
    return [
        {
            t("editor.vplan.node"): "\u2003" * r.depth + ("└ " if r.depth else "") + r.label,
            t("editor.vplan.hot"): t("editor.vplan.hot_mark") if r.hot else "",
            t("editor.vplan.share"): r.share,
            t("editor.vplan.self_ms") if analyzed else t("editor.vplan.self_cost"): (
                r.self_ms if analyzed else r.self_cost
            ),
            t("editor.vplan.total_ms"): r.total_ms,
            t("editor.vplan.rows_est"): r.plan_rows,
            t("editor.vplan.rows_actual"): r.actual_rows,
            t("editor.vplan.miss"): r.miss_text,
            t("editor.vplan.loops"): r.loops,
            t("editor.vplan.cost"): r.total_cost,
            t("editor.vplan.detail"): r.detail,
        }
        for r in rows
    ]


def _tree(result: ExplainResult, key: str) -> None:
    config = {
        t("editor.vplan.share"): st.column_config.ProgressColumn(
            t("editor.vplan.share"), min_value=0, max_value=100, format="%.0f%%"
        )
    }
    st.dataframe(table(result), hide_index=True, width="stretch", column_config=config, key=key)


def _head(result: ExplainResult) -> None:
    s = plans.summary(result)
    if result.analyzed:
        st.caption(
            t("editor.plan_times", planning=result.planning_ms, execution=result.execution_ms)
        )
        st.caption(t("editor.plan_rolled_back"))
    st.caption(
        t(
            "editor.vplan.summary",
            nodes=int(s.nodes),
            cost=float(s.total_cost),
            hot=int(s.hot),
        )
    )


def _misses(result: ExplainResult) -> None:
    for r in plans.tree(result):
        if r.miss is not None:
            st.warning(
                t(
                    "editor.vplan.miss_note",
                    node=plain(r.label),
                    est=f"{r.plan_rows:.0f}",
                    actual=f"{r.actual_rows or 0:.0f}",
                    factor=plain(r.miss_text),
                ),
                icon=":material/warning:",
            )


def plan_view(result: ExplainResult) -> None:
    """One plan: figures, icicle, row-miss notes, indented tree and the raw JSON."""
    _head(result)
    st.plotly_chart(icicle(result), width="stretch", key="ed_plan_icicle")
    _misses(result)
    _tree(result, "ed_plan_tree")
    with st.expander(t("editor.plan_raw")):
        st.code(result.raw_json, language="json")


def compare_view() -> None:
    """Two of this session's plans side by side, with what differs."""
    kept: list[tuple[str, ExplainResult]] = st.session_state.get("ed_plans") or []
    if len(kept) < 2:
        return
    with st.expander(t("editor.vplan.compare"), icon=":material/compare_arrows:"):
        labels = list(range(len(kept)))
        pick = st.columns(2)
        a = pick[0].selectbox(
            t("editor.vplan.left"),
            labels,
            index=len(kept) - 2,
            format_func=lambda i: plain(kept[i][0]),
            key="ed_cmp_a",
        )
        b = pick[1].selectbox(
            t("editor.vplan.right"),
            labels,
            index=len(kept) - 1,
            format_func=lambda i: plain(kept[i][0]),
            key="ed_cmp_b",
        )
        left, right = kept[int(a or 0)][1], kept[int(b or 0)][1]
        diff = plans.compare(left, right)
        if diff.cost_ratio is not None:
            st.caption(
                t("editor.vplan.cost_ratio", ratio=decimal(diff.cost_ratio, state.language(), 2))
            )
        if diff.time_ratio is not None:
            st.caption(
                t("editor.vplan.time_ratio", ratio=decimal(diff.time_ratio, state.language(), 2))
            )
        if diff.only_left or diff.only_right:
            st.caption(
                t(
                    "editor.vplan.kinds",
                    gone=plain(", ".join(diff.only_left) or "-"),
                    new=plain(", ".join(diff.only_right) or "-"),
                )
            )
        sides = st.columns(2)
        for side, result, key in ((sides[0], left, "a"), (sides[1], right, "b")):
            with side:
                _head(result)
                _tree(result, f"ed_cmp_tree_{key}")


def show() -> bool:
    """Draw the last outcome if it is a plan (and offer the comparison); whether it was one."""
    out = st.session_state.get("ed_outcome") or {}
    result = out.get("result")
    if not isinstance(result, ExplainResult) or out.get("error") is not None:
        return False
    remember(result)
    plan_view(result)
    compare_view()
    return True
