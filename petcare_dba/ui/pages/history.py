"""History: your executions (admins: everyone's), newest first."""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state

t = state.t
actor = state.require_actor()
st.title(t("history.title"))
with state.runtime().store.tx(actor.identity) as tx:
    rows = tx.all("history_recent", {"limit": 500})
if not rows:
    st.info(t("history.none"))
else:
    st.dataframe(rows, hide_index=True, width="stretch")
