"""Dashboard (overview): the chosen connection's header, a verdict per area and Plotly history.

Refreshes verdicts and charts every sampling interval in a fragment; the samples come from the
`sampling` job (`petcare-dba worker`, or `up` from its start), never from a page visit. Cards and
charts come from one store round trip (`monitoring.overview`), and the header's glance at the
target runs after them (issue 19: `python -m bench ui` counts what a first paint costs).
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import monitoring
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import count, human_bytes
from petcare_dba.ui.components.monitoring import overview as widgets
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("dashboard.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
conn_name: str = name
# The live check opens a connection to the target (its own round trips); it fills this header
# after the charts, which read the store only, so a slow target never delays the first figure.
header = st.container()
since = widgets.range_picker(t)


@st.fragment(run_every=max(5, rt.settings.monitoring_interval_s))
def overview() -> None:
    # A timed rerun of the fragment skips the router: check the session here (free within
    # session_check_window_s), so a revoked session stops getting fresh numbers.
    if state.current_actor() is None:
        st.rerun()
    try:
        # One store round trip for every card and chart (issue 19: the first paint).
        data = monitoring.overview(
            state.runtime(),
            actor,
            conn_name,
            _metrics(widgets.CHARTS),
            _metrics(widgets.APP_CHARTS),
            since,
        )
    except PetcareError as exc:
        show_error(exc)
        return
    st.subheader(t("dashboard.health"))
    # Always one slot for the note, so the charts keep their places from one timed rerun to the
    # next and replace themselves instead of standing beside their stale copies meanwhile.
    note = st.empty()
    if all(v.level == "unknown" for v in data.verdicts):
        note.info(t("dashboard.collecting", s=rt.settings.monitoring_interval_s))
    widgets.verdict_cards(t, data.verdicts)
    st.subheader(t("dashboard.history"))
    widgets.charts(t, lambda m: {k: data.series[k] for k in m}, widgets.CHARTS)
    st.subheader(t("dashboard.app"))
    widgets.app_metrics(t, data.app_latest)
    widgets.charts(t, lambda m: {k: data.app_series[k] for k in m}, widgets.APP_CHARTS)


def _metrics(specs: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    return [m for _, metrics in specs for m in metrics]


overview()
with header:
    result = monitoring.glance(rt, actor, conn_name)
    if not result.ok:
        st.error(t("dashboard.unreachable", name=plain(conn_name), error=plain(result.error or "")))
        st.stop()
    lang = state.language()
    cols = st.columns(4)
    cols[0].metric(t("dashboard.version"), result.server_version or "-")
    cols[1].metric(t("dashboard.size"), human_bytes(result.database_bytes, lang))
    cols[2].metric(t("dashboard.tables"), count(result.table_count, lang))
    cols[3].metric(t("dashboard.latency"), f"{count(result.latency_ms, lang)} ms")
