"""API tokens: the signed-in user's tokens for AI agents reaching the MCP server (issue 20).

Create one (a name, the highest role it acts with — never above the user's — the connections it
may use, days to expiry); its secret is shown once, in this run only, and only its sha256 is
kept. The list shows the user's tokens (an admin's: everyone's) with last use and state; any
active one can be revoked, which stops it at its next call. Services decide, RLS filters.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections, mcp
from petcare_dba.services.actor import ROLES
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("tokens.title"))
st.caption(t("tokens.intro"))

visible = connections.list_connections(rt, actor)
by_id = {c.id: c.name for c in visible}
with st.form("token_new", clear_on_submit=True):
    cols = st.columns([3, 1.2, 1])
    name = cols[0].text_input(t("tokens.name"), max_chars=100, key="token_name")
    roles = [r for r in ROLES if actor.at_least(r)]
    role = cols[1].selectbox(t("tokens.role"), roles, index=len(roles) - 1, key="token_role")
    days = cols[2].number_input(t("tokens.days"), min_value=1, max_value=365, value=30)
    scope = st.multiselect(
        t("tokens.connections"),
        [c.name for c in visible],
        help=t("tokens.connections_help"),
        placeholder=t("common.choose_many"),
    )
    submitted = st.form_submit_button(t("tokens.create"), type="primary")
if submitted:
    try:
        made = mcp.tokens.create(
            rt, actor, name, max_role=role, connection_names=tuple(scope), days=int(days)
        )
    except PetcareError as exc:
        show_error(exc)
    else:
        st.success(t("tokens.created", id=made.id))
        st.warning(t("tokens.shown_once"))
        st.code(made.secret, language=None)

found = mcp.tokens.list_tokens(rt, actor)
if not found:
    st.caption(t("tokens.none"))
    st.stop()
grid.table(
    [
        {
            t("tokens.col_id"): tok.id,
            t("tokens.col_name"): plain(tok.name),
            t("tokens.col_owner"): plain(tok.owner),
            t("tokens.col_role"): tok.max_role,
            t("tokens.col_connections"): (
                t("tokens.all")
                if tok.connection_ids is None
                else ", ".join(by_id.get(i, f"#{i}") for i in tok.connection_ids)
            ),
            t("tokens.col_expires"): tok.expires_at,
            t("tokens.col_last_used"): tok.last_used_at,
            t("tokens.col_state"): t("tokens.active")
            if tok.active
            else (t("tokens.revoked") if tok.revoked_at else t("tokens.expired")),
        }
        for tok in found
    ],
    key="tokens_grid",
)
active = [tok for tok in found if tok.active]
if active:
    cols = st.columns([3, 1])
    pick = cols[0].selectbox(
        t("tokens.revoke_which"),
        [tok.id for tok in active],
        format_func=lambda i: next(
            f"{x.id} · {plain(x.name)} ({x.owner})" for x in active if x.id == i
        ),
    )
    if cols[1].button(t("tokens.revoke"), type="secondary", key="token_revoke"):
        try:
            mcp.tokens.revoke(rt, actor, int(pick))
        except PetcareError as exc:
            show_error(exc)
        else:
            st.success(t("tokens.revoked_now", id=pick))
            st.rerun()
