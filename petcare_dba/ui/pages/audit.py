"""Audit: the newest audit events you may see (admins: everyone's), filterable, chain check."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import audit
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("audit.title"))
cols = st.columns(3)
action = cols[0].text_input(t("audit.action"), key="audit_action") or None
outcome = (
    cols[1].selectbox(
        t("audit.outcome"),
        ["", "ok", "error", "refused", "intent", "cancelled", "timeout", "unknown", "confirm"],
        key="audit_outcome",
    )
    or None
)
user = cols[2].text_input(t("audit.user"), key="audit_user") or None
entries = audit.recent(rt.store, actor, limit=500, action=action, outcome=outcome, username=user)
st.dataframe(
    [
        {
            "#": e.chain_seq,
            "at": e.at,
            "user": e.username,
            "role": e.app_role,
            "action": e.action,
            "outcome": e.outcome,
            "target": e.target,
            "sqlstate": e.sqlstate,
            "sql": e.sql_text,
        }
        for e in entries
    ],
    hide_index=True,
    width="stretch",
)
if actor.role == "admin" and st.button(t("audit.verify"), icon=":material/verified:"):
    try:
        status = audit.verify(rt.store, actor)
    except PetcareError as exc:
        show_error(exc)
    else:
        if status.ok:
            st.success(t("audit.chain_ok", n=status.checked))
        else:
            st.error(t("audit.chain_broken", seq=status.first_broken_seq, reason=status.reason))
