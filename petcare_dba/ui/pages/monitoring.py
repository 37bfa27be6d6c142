"""Monitoring: drill-downs of the chosen connection — activity, queries, regressions, space,
maintenance."""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state
from petcare_dba.ui.components import tabs
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
# Only the open tab runs (each reads the target or the store): one tab's reads per visit.
DRAW = (drill.activity, drill.queries, regressed.regressions, drill.space, drill.maintenance)
at, body = tabs.selected(
    [
        t("monitoring.tab.activity"),
        t("monitoring.tab.queries"),
        t("monitoring.tab.regressions"),
        t("monitoring.tab.space"),
        t("monitoring.tab.maintenance"),
    ],
    key="mon_tab",
)
with body:
    DRAW[at](t, rt, actor, conn_name)
