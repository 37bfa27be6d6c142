"""Dashboard (overview): the chosen connection's header, a verdict per area and Plotly history.

Refreshes verdicts and charts every sampling interval in a fragment; the samples come from the
`sampling` job (`petcare-dba worker`, or `up` from its start), never from a page visit. The
charts read the store once per scope, and the header's live check of the target runs after
them (issue 19: `python -m bench ui` counts what a first paint costs).
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections, monitoring
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
    try:
        verdicts = monitoring.verdicts(state.runtime(), actor, conn_name)
        app_latest = monitoring.latest(state.runtime(), actor, None)
    except PetcareError as exc:
        show_error(exc)
        return
    st.subheader(t("dashboard.health"))
    if all(v.level == "unknown" for v in verdicts):
        st.info(t("dashboard.collecting", s=rt.settings.monitoring_interval_s))
    widgets.verdict_cards(t, verdicts)
    st.subheader(t("dashboard.history"))
    # One read per scope for every chart: each read is a store transaction (round trips).
    data = monitoring.series(state.runtime(), actor, conn_name, _metrics(widgets.CHARTS), since)
    widgets.charts(t, lambda m: {k: data[k] for k in m}, widgets.CHARTS)
    st.subheader(t("dashboard.app"))
    widgets.app_metrics(t, app_latest)
    app = monitoring.series(state.runtime(), actor, None, _metrics(widgets.APP_CHARTS), since)
    widgets.charts(t, lambda m: {k: app[k] for k in m}, widgets.APP_CHARTS)


def _metrics(specs: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    return [m for _, metrics in specs for m in metrics]


overview()
with header:
    result = connections.check(rt, actor, conn_name)
    if not result.ok:
        st.error(t("dashboard.unreachable", name=plain(conn_name), error=plain(result.error or "")))
        st.stop()
    lang = state.language()
    cols = st.columns(4)
    cols[0].metric(t("dashboard.version"), result.server_version or "-")
    cols[1].metric(t("dashboard.size"), human_bytes(result.database_bytes, lang))
    cols[2].metric(t("dashboard.tables"), count(result.table_count, lang))
    cols[3].metric(t("dashboard.latency"), f"{count(result.latency_ms, lang)} ms")
