"""Monitoring: drill-downs of the chosen connection — activity, queries, regressions, space,
maintenance."""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state
from petcare_dba.ui.components.monitoring import drilldowns as drill
from petcare_dba.ui.components.monitoring import regressions as regressed

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("monitoring.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
conn_name: str = name
activity, queries, regressions, space, maintenance = st.tabs(
    [
        t("monitoring.tab.activity"),
        t("monitoring.tab.queries"),
        t("monitoring.tab.regressions"),
        t("monitoring.tab.space"),
        t("monitoring.tab.maintenance"),
    ]
)
with activity:
    drill.activity(t, rt, actor, conn_name)
with queries:
    drill.queries(t, rt, actor, conn_name)
with regressions:
    regressed.regressions(t, rt, actor, conn_name)
with space:
    drill.space(t, rt, actor, conn_name)
with maintenance:
    drill.maintenance(t, rt, actor, conn_name)
