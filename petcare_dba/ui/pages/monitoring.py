"""Monitoring: sessions by state and database counters of the chosen connection, live."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import catalog
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
st.title(t("monitoring.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
conn_name: str = name


@st.fragment(run_every=10)
def live() -> None:
    try:
        activity = catalog.activity(state.runtime(), actor, conn_name)
        stats = catalog.database_stats(state.runtime(), actor, conn_name)
    except PetcareError as exc:
        show_error(exc)
        return
    cols = st.columns(3)
    cols[0].metric(t("monitoring.sessions"), sum(int(a["sessions"]) for a in activity))
    cols[1].metric(t("dashboard.cache_hit"), f"{stats.get('cache_hit_pct') or 0}%")
    cols[2].metric(t("monitoring.deadlocks"), stats.get("deadlocks", 0))
    st.plotly_chart(px.bar(activity, x="state", y="sessions", color="state"), width="stretch")
    st.dataframe(activity, hide_index=True, width="stretch")


live()
