"""Audit: events you may see (admins: everyone's), filters, detail, exports, alerts, chain check."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services.security import audit
from petcare_dba.ui import state
from petcare_dba.ui.components import security

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("audit.title"))
st.caption(t("audit.scope_all") if actor.role == "admin" else t("audit.scope_own"))
security.alerts(rt, actor)
chosen = security.filters(rt, actor)
entries = audit.search(
    rt.store,
    actor,
    username=chosen.username,
    action=chosen.action,
    outcome=chosen.outcome,
    connection=chosen.connection,
    since=chosen.since,
    until=chosen.until,
    limit=1000,
)
security.table(entries)
security.detail(rt, actor, entries)
security.exports(entries)
security.verify_button(rt, actor)
