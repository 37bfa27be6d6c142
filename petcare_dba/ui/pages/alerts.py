"""Alerts: what fires now (acknowledge), the history, the rules and the notification channels."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import alerts
from petcare_dba.ui import state
from petcare_dba.ui.components import alerts as widgets
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("alerts.title"))
tabs = [t("alerts.tab.firing"), t("alerts.tab.history"), t("alerts.tab.rules")]
if actor.at_least("admin"):
    tabs.append(t("alerts.tab.channels"))
parts = st.tabs(tabs)
try:
    events = alerts.history(rt, actor, limit=300)
except PetcareError as exc:
    show_error(exc)
    st.stop()
with parts[0]:
    widgets.firing(t, rt, actor, [e for e in events if e.state == "firing"])
with parts[1]:
    widgets.history(t, events)
with parts[2]:
    try:
        widgets.rules(t, rt, actor)
    except PetcareError as exc:
        show_error(exc)
if actor.at_least("admin"):
    with parts[3]:
        try:
            widgets.channels(t, rt, actor)
        except PetcareError as exc:
            show_error(exc)
