"""Charts that read at a glance: local-time axes, units, integer counts, empty states (issue 19).

The figure builders are checked on their layout (what the browser is told to draw); then the
dashboard and Monitoring pages are rendered from the real entrypoint (AppTest) and the figures
they send are read back from the page, in both languages.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from petcare_dba.ui.components import format as fmt
from petcare_dba.ui.components.monitoring import charts, overview
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_monitoring import Holder, Target, target_db
from tests.fix_ui import sign_in

__all__ = ["target_db"]
UTC = dt.UTC
SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # UTC-3 all year since 2019


def _points(
    values: list[float], start: dt.datetime | None = None
) -> list[tuple[dt.datetime, float]]:
    begin = start or dt.datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    return [(begin + dt.timedelta(seconds=15 * i), v) for i, v in enumerate(values)]


def _figure(kind: str, data: dict[str, list[tuple[dt.datetime, float]]], lang: str = "en") -> Any:
    return charts.series_figure(
        "t", data, {}, kind=kind, language=lang, tz=SAO_PAULO, empty_text="fills later"
    )


# -- the figure builders ---------------------------------------------------------------------


def test_bytes_are_scaled_to_one_binary_unit_on_the_axis_and_in_the_hover() -> None:
    fig = _figure("bytes", {"database_bytes": _points([94_371_840, 94_400_000])})
    assert fig.layout.yaxis.ticksuffix == " MiB"
    assert fig.data[0].hovertemplate == "%{y:,.1f} MiB"
    assert fig.data[0].y[0] == pytest.approx(90.0)  # 94,371,840 B = 90 MiB, not 89.9949435M


def test_time_axis_is_a_local_date_axis_in_hours_and_minutes() -> None:
    fig = _figure("rate", {"tps": _points([1.0, 2.0, 3.0])})
    assert fig.layout.xaxis.type == "date"
    assert fig.layout.xaxis.tickformat == "%H:%M:%S"  # a 30 s span: seconds, never milliseconds
    hour = _figure("rate", {"tps": _points([1.0] * 240)})
    assert hour.layout.xaxis.tickformat == "%H:%M"
    assert fig.data[0].x[0] == dt.datetime(2026, 12, 3, 10, 0)  # 13:00 UTC in São Paulo
    week = _figure(
        "rate", {"tps": _points([1.0, 2.0]) + _points([3.0], dt.datetime(2026, 12, 9, tzinfo=UTC))}
    )
    assert week.layout.xaxis.tickformat == "%b %d %H:%M"


def test_counts_tick_in_whole_numbers() -> None:
    fig = _figure("count", {"sessions_active": _points([1.0, 2.0, 1.0])})
    assert fig.layout.yaxis.tickformat == ",d" and fig.layout.yaxis.dtick == 1
    assert fig.data[0].hovertemplate == "%{y:,.0f}"


def test_an_empty_chart_draws_no_axes_and_says_what_fills_it() -> None:
    fig = _figure("count", {"sessions_active": [], "sessions_idle": []})
    assert len(fig.data) == 0
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert [a.text for a in fig.layout.annotations] == ["fills later"]


def test_numbers_follow_the_language() -> None:
    assert fmt.human_bytes(94_371_840) == "90.0 MiB"
    assert fmt.human_bytes(94_371_840, "pt-BR") == "90,0 MiB"
    assert fmt.human_bytes(512) == "512 B"
    assert fmt.count(1.0) == "1" and fmt.count(1234, "pt-BR") == "1.234"
    assert fmt.decimal(1234.56, "en") == "1,234.6"
    assert _figure("pct", {"host_cpu_pct": _points([5.0])}, "pt-BR").layout.separators == ",."
    assert _figure("pct", {"host_cpu_pct": _points([5.0])}, "en").layout.separators == ".,"


def test_outside_text_is_escaped_in_trace_and_tile_names() -> None:
    hostile = "SELECT '<a href=\"https://evil\">x</a>' <img src=x>"
    fig = charts.statements_figure(
        "t", {hostile: _points([1.0, 2.0])}, language="en", tz=UTC, empty_text="-"
    )
    assert "<" not in fig.data[0].name and "&lt;a href" in fig.data[0].name
    tree = charts.treemap_figure(
        "t",
        [{"schema": "public", "name": "<b>x</b>", "total_bytes": 10}],
        ["10 B"],
        language="en",
        empty_text="-",
    )
    assert "<b>" not in "".join(tree.data[0].labels)


def test_the_blocking_tree_puts_each_waiter_under_its_blocker() -> None:
    fig = charts.blocking_figure("t", [(1, None, "holder"), (2, 1, "waiter")], language="en")
    assert list(fig.data[0].ids) == ["1", "2"] and list(fig.data[0].parents) == ["", "1"]


# -- the pages -------------------------------------------------------------------------------


def _open(app: Callable[[], AppTest], page: str, lang: str, tab: int | None = None) -> AppTest:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["connection"] = "tgt"
    at.session_state["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """Every Plotly figure of the page by its title."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def _sample(rt: Runtime, admin: Actor) -> None:
    conn_id = connections.get(rt, admin, "tgt").id
    for _ in range(2):
        collector.sample_connection(rt, collector.system_actor(rt), conn_id, "tgt", force=True)
        time.sleep(0.2)
    collector.app_round(rt, collector.system_actor(rt), force=True)


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_the_dashboard_charts_have_units_local_time_and_empty_states(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target, lang: str
) -> None:
    _sample(rt, admin)
    at = _open(app, "pages/dashboard.py", lang)
    figs = _figures(at)
    tr = lambda key, **v: i18n.translate(lang, key, **v)  # noqa: E731
    size = figs[tr("dashboard.chart.size")]
    assert size["layout"]["yaxis"]["ticksuffix"].endswith("iB")  # KiB / MiB, never "M" SI
    assert size["layout"]["xaxis"]["type"] == "date"
    assert size["layout"]["xaxis"]["tickformat"] == "%H:%M:%S"  # a first minute of samples
    assert size["data"][0]["hovertemplate"].endswith("iB")
    sessions = figs[tr("dashboard.chart.sessions")]
    assert sessions["layout"]["yaxis"]["tickformat"] == ",d"
    assert size["layout"]["separators"] == (",." if lang == "pt-BR" else ".,")
    # No SQL ran through the app: the latency chart says what will fill it, with no axes.
    latency = figs[tr("dashboard.chart.app_latency")]
    assert latency["data"] == []
    assert latency["layout"]["xaxis"]["visible"] is False
    assert latency["layout"]["annotations"][0]["text"] == tr("dashboard.empty.app_latency")
    projects = next(m for m in at.metric if m.label == tr("dashboard.metric.app_projects_total"))
    assert projects.value == "0"  # a count, never "0.0"


def test_every_chart_has_an_empty_state_in_both_languages() -> None:
    for lang in i18n.LANGUAGES:
        for title, _ in overview.CHARTS + overview.APP_CHARTS:
            assert f"dashboard.empty.{title}" in i18n.catalogue(lang), (lang, title)
            assert title in overview.KIND and overview.KIND[title] in charts.KINDS


def test_monitoring_draws_space_as_a_treemap_and_the_blocking_tree(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target
) -> None:
    target_db.execute("CREATE TABLE visits (id int PRIMARY KEY)", "INSERT INTO visits VALUES (1)")
    holder = Holder(target_db.url, "BEGIN", "UPDATE visits SET id = id")
    waiter = Holder(target_db.url)
    waiter.run_in_background("UPDATE visits SET id = id")
    try:
        time.sleep(0.5)
        at = _open(app, "pages/monitoring.py", "en")
        figs = _figures(at)
        tree = figs[i18n.translate("en", "monitoring.blocking_tree")]
        parents = dict(zip(tree["data"][0]["ids"], tree["data"][0]["parents"], strict=True))
        assert parents[str(waiter.conn.info.backend_pid)] == str(holder.conn.info.backend_pid)
        assert not at.error, [e.value for e in at.error]
        at.session_state["connection"] = "tgt"  # AppTest forgets the sidebar's picker
        at.session_state["mon_tab"] = i18n.translate("en", "monitoring.tab.space")
        at.run()  # only the open tab is drawn
        figs = _figures(at)
        space = figs[i18n.translate("en", "monitoring.space_by_table")]
        assert space["data"][0]["type"] == "treemap" and "visits" in space["data"][0]["labels"]
    finally:
        holder.close()
        waiter.close()


def _app_numbers_then_a_chart(sampled: bool) -> None:
    import datetime as dt

    import streamlit as st

    from petcare_dba.ui.components.monitoring import overview

    at = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
    latest = {"app_active_users": (at, 3.0)} if sampled else {}
    overview.app_metrics(lambda key, **values: key, latest)
    st.plotly_chart({"data": [{"type": "scatter"}]}, key="after")


def test_the_app_numbers_keep_one_slot_so_the_charts_below_never_move() -> None:
    """A timed rerun that first has app samples must draw the charts below them at the same
    places: a moved chart stands beside its stale copy until the rerun ends (the dashboard
    journey once counted 10 figures for 8)."""
    places = []
    for sampled in (False, True):
        at = AppTest.from_function(_app_numbers_then_a_chart, args=(sampled,), default_timeout=30)
        at.session_state["lang"] = "en"
        at.run()
        assert not at.exception, at.exception
        places.append(len(at.main.children))
    assert places[0] == places[1], places
