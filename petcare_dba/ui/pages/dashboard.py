"""Dashboard: the chosen connection's server version, size, tables, sessions and cache hits."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import catalog, connections
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import human_bytes

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("dashboard.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
result = connections.check(rt, actor, name)
if not result.ok:
    st.error(t("dashboard.unreachable", name=name, error=result.error or ""))
    st.stop()
cols = st.columns(4)
cols[0].metric(t("dashboard.version"), result.server_version or "-")
cols[1].metric(t("dashboard.size"), human_bytes(result.database_bytes))
cols[2].metric(t("dashboard.tables"), f"{result.table_count:,}")
cols[3].metric(t("dashboard.latency"), f"{result.latency_ms} ms")
try:
    stats = catalog.database_stats(rt, actor, name)
    activity = catalog.activity(rt, actor, name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
left, right = st.columns(2)
with left:
    st.subheader(t("dashboard.sessions"))
    if activity:
        st.plotly_chart(px.bar(activity, x="state", y="sessions"), width="stretch")
with right:
    st.subheader(t("dashboard.cache_hit"))
    st.metric(t("dashboard.cache_hit"), f"{stats.get('cache_hit_pct') or 0}%")
    st.caption(
        t(
            "dashboard.transactions",
            commits=stats.get("xact_commit", 0),
            rollbacks=stats.get("xact_rollback", 0),
            deadlocks=stats.get("deadlocks", 0),
        )
    )
