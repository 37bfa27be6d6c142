"""Connections: those you may use, with a test button; dba/admin can register new ones.

The test says what each credential can do (superuser, signal, file access, writes...) and why
viewers and the assistant would be refused; dba/admin can add a read-only credential.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said, show_error
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
            read_url = st.text_input(
                t("connections.read_url"), type="password", help=t("connections.read_url_help")
            )
            read_only = st.checkbox(t("connections.read_only"))
            shared = st.checkbox(t("connections.shared"))
            ambient = allow_stats = False
            if actor.at_least("admin"):
                ambient = st.checkbox(t("connections.ambient"))
                allow_stats = st.checkbox(t("connections.allow_stats"))
            if st.form_submit_button(t("connections.add"), type="primary"):
                try:
                    connections.add(
                        rt,
                        actor,
                        name,
                        url,
                        read_only=read_only,
                        shared=shared,
                        read_url=read_url or None,
                        ambient_credentials=ambient,
                        allow_stats=allow_stats,
                    )
                    st.success(t("connections.added", name=plain(name)))
                except PetcareError as exc:
                    show_error(exc)
rows = connections.list_connections(rt, actor)
shows_urls = actor.at_least(connections.URL_ROLE)
grid.table(
    [
        {
            "name": c.name,
            **({"url": c.display_url, "read_url": c.read_display_url or ""} if shows_urls else {}),
            "read_only": c.read_only,
            "shared": c.shared,
            "owner": c.owner,
            "ai_consent": c.ai_consent,
        }
        for c in rows
    ],
    key="conn_grid",
)
if not shows_urls:
    st.caption(t("connections.urls_hidden"))
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
            st.text(t("connections.primary_can", can=result.primary_can))
            if result.read_can:
                st.text(t("connections.read_can", can=result.read_can))
            for problem in result.read_path_problems:
                # st.text, not st.warning: role and table names come from the target (outside
                # text) and must not be rendered as Markdown.
                st.text("⚠ " + t("connections.read_problem", problem=said(problem)))
        else:
            show_error(
                PetcareError(
                    result.error or t("health.connection.unreachable"),
                    title=t("connections.test_failed"),
                )
            )
if rows and actor.at_least("dba"):
    with st.expander(t("connections.set_read"), icon=":material/key:"):
        with st.form("set_read", clear_on_submit=True):
            which = st.selectbox(t("connections.read_which"), [c.name for c in rows])
            new_read = st.text_input(
                t("connections.read_url"), type="password", help=t("connections.read_url_help")
            )
            if st.form_submit_button(t("connections.set_read")):
                try:
                    connections.set_read_credential(rt, actor, which, new_read or None)
                    st.success(t("connections.read_set", name=plain(which)))
                except PetcareError as exc:
                    show_error(exc)
