"""AppTest journeys of the SQL editor's tabs, chart builder and visual EXPLAIN (issue 19).

Tabs: opened, renamed, filled, then found again by a new session of the same user (what a
browser reload is) with the last one looked at open; switching brings each tab's text back.
Chart: a bar chart of a result whose bigint is beyond 2^53, its hover showing every digit.
EXPLAIN: the plan as an icicle and a tree, a row miss flagged, two plans compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.services.editor import tabs
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui.components.text import as_read
from tests.fix_engine import Target, target  # noqa: F401
from tests.sql.test_editor_page import click, editor, press, rerun


def _figures(at: AppTest) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def test_tabs_are_kept_and_come_back_in_a_new_session(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    rt: Runtime,
    admin: Actor,
) -> None:
    at = editor(app)
    [first] = tabs.list_tabs(rt, admin)  # the first visit opens one tab
    assert first.name == "Query 1"
    at.session_state["ed_text"] = "SELECT 'first tab'"
    rerun(at)  # the debounced change of the Ace box: autosaved
    at = click(at, "ed_tab_new")
    second = at.session_state["ed_tab"]
    assert second != first.id and at.session_state["ed_text"] == ""
    at.session_state["ed_text"] = "SELECT 'second tab'"
    rerun(at)
    at.session_state[f"ed_tab_name_{second}"] = "Payments"
    at = click(at, "ed_tab_rename")
    stored = {x.name: (x.content, x.connection) for x in tabs.list_tabs(rt, admin)}
    assert stored == {
        "Query 1": ("SELECT 'first tab'", "tgt"),
        "Payments": ("SELECT 'second tab'", "tgt"),
    }

    again = editor(app)  # a new session, as after a reload: both tabs, the last one open
    assert [x.name for x in again.session_state["ed_tabs"]] == ["Query 1", "Payments"]
    assert again.session_state["ed_text"] == "SELECT 'second tab'"
    assert again.radio(key="ed_tab_pick").options == ["Query 1", "Payments"]
    again.radio(key="ed_tab_pick").set_value(first.id)
    again = rerun(again)
    assert again.session_state["ed_text"] == "SELECT 'first tab'"
    again = click(again, "ed_tab_close")
    assert [x.name for x in tabs.list_tabs(rt, admin)] == ["Payments"]
    assert again.session_state["ed_text"] == "SELECT 'second tab'"


def test_chart_builder_draws_a_bar_chart_with_exact_hover_values(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(
        editor(app),
        "ed_run",
        "SELECT d::date AS day, 9007199254740993 + g AS big, 'k' || g % 2 AS kind "
        "FROM generate_series(1, 3) g, LATERAL (SELECT '2024-05-0' || g AS d) x ORDER BY 1",
    )
    [fig] = _figures(at)
    trace = fig["data"][0]
    assert trace["type"] == "bar"
    assert trace["x"][0].startswith("2024-05-01")  # x defaults to the date column
    assert trace["customdata"][0][0] == "9007199254740994"  # y: the bigint, every digit kept
    radio = next(r for r in at.radio if r.key and r.key.startswith("ed_chart_kind_"))
    radio.set_value("line")
    color = next(s for s in at.selectbox if s.key and s.key.startswith("ed_chart_color_"))
    color.set_value("kind")
    at = rerun(at)
    figs = _figures(at)
    assert {t["type"] for t in figs[0]["data"]} == {"scatter"}  # px.line draws scatter traces
    assert {t["name"] for t in figs[0]["data"]} == {"k0", "k1"}


def test_visual_explain_flags_a_miss_and_compares_two_plans(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    target.execute("CREATE TABLE m AS SELECT g AS a, g AS b FROM generate_series(1, 20000) g")
    target.execute("ANALYZE m")
    at = press(editor(app), "ed_explain", "SELECT * FROM m WHERE a = b")
    [icicle] = _figures(at)
    assert icicle["data"][0]["type"] == "icicle"
    tree = at.dataframe[0].value
    assert tree["Node"].tolist()[-1].endswith("Seq Scan on m")
    at = press(at, "ed_analyze")
    assert any("expected 100 rows and got 20000" in as_read(w.value) for w in at.warning)
    tree = at.dataframe[0].value
    assert "×200 under" in tree["Row estimate"].tolist()
    assert "HOT" in tree["Hot"].tolist()
    # Two plans this session: the comparison sets them side by side.
    assert at.selectbox(key="ed_cmp_a").value == 0 and at.selectbox(key="ed_cmp_b").value == 1
    assert len(at.dataframe) == 3  # the plan, then left and right
    assert any("×" in c.value for c in at.caption)
