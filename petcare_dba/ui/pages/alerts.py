"""Alerts: conditions on the chosen connection that need attention right now."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import catalog
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
st.title(t("alerts.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
try:
    activity = catalog.activity(state.runtime(), actor, name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
idle_tx = sum(int(a["sessions"]) for a in activity if a["state"].startswith("idle in"))
longest = max((float(a["longest_active_s"]) for a in activity), default=0.0)
conditions = []
if idle_tx:
    conditions.append(t("alerts.idle_in_tx", n=idle_tx))
if longest > 300:
    conditions.append(t("alerts.long_query", s=round(longest)))
if conditions:
    for text in conditions:
        st.warning(text, icon=":material/warning:")
else:
    st.success(t("alerts.all_clear"), icon=":material/check_circle:")
