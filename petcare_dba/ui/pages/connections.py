"""Connections: those you may use, with a test button; dba/admin can register new ones."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("connections.title"))
if actor.at_least("dba"):
    with st.expander(t("connections.new"), icon=":material/add_link:"):
        with st.form("new_connection", clear_on_submit=True):
            name = st.text_input(t("connections.name"))
            url = st.text_input(
                t("connections.url"), type="password", help=t("connections.url_help")
            )
            read_only = st.checkbox(t("connections.read_only"))
            shared = st.checkbox(t("connections.shared"))
            if st.form_submit_button(t("connections.add"), type="primary"):
                try:
                    connections.add(rt, actor, name, url, read_only=read_only, shared=shared)
                    st.success(t("connections.added", name=plain(name)))
                except PetcareError as exc:
                    show_error(exc)
rows = connections.list_connections(rt, actor)
st.dataframe(
    [
        {
            "name": c.name,
            "url": c.display_url,
            "read-only": c.read_only,
            "shared": c.shared,
            "owner": c.owner,
            "AI consent": c.ai_consent,
        }
        for c in rows
    ],
    hide_index=True,
    width="stretch",
)
if rows:
    choice = st.selectbox(t("connections.test_which"), [c.name for c in rows], key="conn_test")
    if st.button(t("connections.test"), icon=":material/network_check:"):
        result = connections.check(rt, actor, choice)
        if result.ok:
            st.success(
                t(
                    "connections.test_ok",
                    version=result.server_version,
                    ms=result.latency_ms,
                    tables=result.table_count,
                )
            )
        else:
            show_error(
                PetcareError(result.error or "unreachable", title=t("connections.test_failed"))
            )
