"""Alerts: what fires now (acknowledge), the history, the rules, silences and maintenance
windows, and (admins) the notification channels and the delivery outbox."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import alerts
from petcare_dba.ui import state
from petcare_dba.ui.components import alerts as widgets
from petcare_dba.ui.components import alerts_silences as held
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
alerts.deliverer.wake(rt)  # deliveries left pending (a restart, an outage) go out
st.title(t("alerts.title"))
tabs = [
    t("alerts.tab.firing"),
    t("alerts.tab.history"),
    t("alerts.tab.rules"),
    t("alerts.tab.silences"),
    t("alerts.tab.maintenance"),
]
if actor.at_least("admin"):
    tabs += [t("alerts.tab.channels"), t("alerts.tab.outbox")]
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
sections = [
    (parts[2], widgets.rules),
    (parts[3], held.silences),
    (parts[4], held.maintenance),
]
if actor.at_least("admin"):
    sections += [(parts[5], widgets.channels), (parts[6], held.outbox)]
for tab, draw in sections:
    with tab:
        try:
            draw(t, rt, actor)
        except PetcareError as exc:
            show_error(exc)
