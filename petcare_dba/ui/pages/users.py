"""Users (admins): list, create, change role, disable/enable, unlock, reset password, TOTP."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import ROLES
from petcare_dba.services.security import totp, users
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("users.title"))
with st.expander(t("users.new"), icon=":material/person_add:"):
    with st.form("new_user", clear_on_submit=True):
        name = st.text_input(t("login.username"))
        role = st.selectbox(t("users.role"), ROLES)
        password = st.text_input(t("users.password"), type="password")
        if st.form_submit_button(t("users.create"), type="primary"):
            try:
                users.add_user(rt, actor, name, role, password)
                st.success(t("users.created", name=plain(name)))
            except PetcareError as exc:
                show_error(exc)
people = users.list_users(rt, actor)
grid.table(
    [
        {
            t("users.col.username"): u.username,
            t("users.col.role"): u.role,
            t("users.col.disabled"): u.disabled,
            t("users.col.totp"): u.totp_enabled,
            t("users.col.email"): u.email,
            t("users.col.created"): u.created_at,
        }
        for u in people
    ],
    key="users_grid",
)
st.subheader(t("users.change"))
# Issue 13: the form opens on no preset (no user, role or action chosen) and a role change or a
# disable waits for an explicit confirmation, driven from session state (AppTest-friendly).
cols = st.columns(3)
target = cols[0].selectbox(
    t("login.username"),
    [u.username for u in people],
    index=None,
    placeholder=t("users.pick_user"),
    key="users_target",
)
new_role = cols[1].selectbox(
    t("users.role"), ROLES, index=None, placeholder=t("users.pick_role"), key="users_role"
)
action = cols[2].selectbox(
    t("users.action"),
    ["set_role", "disable", "enable", "unlock", "revoke"],
    index=None,
    placeholder=t("users.pick_action"),
    format_func=state.choices("users.action."),
    key="users_action",
)
if target:
    st.caption(t("users.failed_logins", n=users.failed_logins(rt, actor, target)))


def _apply(change: dict[str, str]) -> None:
    try:
        if change["action"] == "set_role":
            users.set_role(rt, actor, change["target"], change["role"])
        elif change["action"] == "unlock":
            users.unlock(rt, actor, change["target"])
        elif change["action"] == "revoke":
            users.revoke_sessions(rt, actor, change["target"])
        else:
            users.set_disabled(rt, actor, change["target"], change["action"] == "disable")
        st.success(t("users.done"))
    except PetcareError as exc:
        show_error(exc)


if st.button(t("users.apply"), key="users_apply", disabled=not (target and action)):
    change = {"target": target or "", "action": action or "", "role": new_role or ""}
    if action == "set_role" and not new_role:
        st.warning(t("users.pick_role"))
    elif action in ("set_role", "disable"):
        st.session_state["users_confirm"] = change
    else:
        _apply(change)
pending = st.session_state.get("users_confirm")
if pending:
    st.warning(
        t("users.confirm_role", name=plain(pending["target"]), role=plain(pending["role"]))
        if pending["action"] == "set_role"
        else t("users.confirm_disable", name=plain(pending["target"]))
    )
    yes, no = st.columns(2)
    if yes.button(t("users.confirm"), key="users_confirm_yes", type="primary"):
        st.session_state.pop("users_confirm", None)
        _apply(pending)
    if no.button(t("users.cancel"), key="users_confirm_no"):
        st.session_state.pop("users_confirm", None)
        st.rerun()
with st.expander(t("users.reset"), icon=":material/password:"):
    if not target:
        st.caption(t("users.pick_user"))
    with st.form("reset_password", clear_on_submit=True):
        new_password = st.text_input(t("users.new_password"), type="password")
        if st.form_submit_button(t("users.reset")):
            try:
                revoked = users.set_password(rt, actor, target or "", new_password)
                st.success(t("users.reset_done", n=revoked))
            except PetcareError as exc:
                show_error(exc)
with st.expander(t("users.totp"), icon=":material/phonelink_lock:"):
    on_off = st.columns(2)
    if on_off[0].button(t("users.totp_enable"), key="users_totp_on"):
        try:
            enrolment = totp.enable(rt, actor, target or "")
            st.info(t("users.totp_uri"))
            st.code(enrolment.uri, language=None)
        except PetcareError as exc:
            show_error(exc)
    if on_off[1].button(t("users.totp_disable"), key="users_totp_off"):
        try:
            totp.disable(rt, actor, target or "")
            st.success(t("users.totp_off"))
        except PetcareError as exc:
            show_error(exc)
