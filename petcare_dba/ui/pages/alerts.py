"""Alerts: what fires now (acknowledge), the history, the rules, silences and maintenance
windows, and (admins) the notification channels and the delivery outbox."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import alerts
from petcare_dba.ui import state
from petcare_dba.ui.components import alerts as widgets
from petcare_dba.ui.components import alerts_silences as held
from petcare_dba.ui.components import tabs
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
alerts.deliverer.wake(rt)  # deliveries left pending (a restart, an outage) go out
st.title(t("alerts.title"))
labels = [
    t("alerts.tab.firing"),
    t("alerts.tab.history"),
    t("alerts.tab.rules"),
    t("alerts.tab.silences"),
    t("alerts.tab.maintenance"),
]
sections = [widgets.rules, held.silences, held.maintenance]
if actor.at_least("admin"):
    labels += [t("alerts.tab.channels"), t("alerts.tab.outbox")]
    sections += [widgets.channels, held.outbox]
# Only the open tab runs: a visit reads what that tab shows, not all seven tabs' reads.
at, body = tabs.selected(labels, key="alerts_tab")
with body:
    try:
        if at < 2:  # firing and history are two views of the same events
            events = alerts.history(rt, actor, limit=300)
            if at == 0:
                widgets.firing(t, rt, actor, [e for e in events if e.state == "firing"])
            else:
                widgets.history(t, events)
        else:
            sections[at - 2](t, rt, actor)
    except PetcareError as exc:
        show_error(exc)
