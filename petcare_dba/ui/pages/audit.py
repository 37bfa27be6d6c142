"""Audit: events you may see (admins: everyone's), filters, detail, exports, alerts, chain check."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services.security import audit
from petcare_dba.ui import state
from petcare_dba.ui.components.security import audit_users

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("audit.title"))
st.caption(t("audit.scope_all") if actor.role == "admin" else t("audit.scope_own"))
audit_users.alerts(rt, actor)
chosen = audit_users.filters(rt, actor)
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
audit_users.table(entries)
audit_users.detail(rt, actor, entries)
audit_users.exports(entries)
audit_users.verify_button(rt, actor)
