"""Users (admins): list, create, change role, disable/enable, unlock, reset password, TOTP."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import totp, users
from petcare_dba.services.actor import ROLES
from petcare_dba.ui import state
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
st.dataframe(
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
    hide_index=True,
    width="stretch",
)
st.subheader(t("users.change"))
cols = st.columns(3)
target = cols[0].selectbox(t("login.username"), [u.username for u in people], key="users_target")
new_role = cols[1].selectbox(t("users.role"), ROLES, key="users_role")
action = cols[2].selectbox(
    t("users.action"),
    ["set_role", "disable", "enable", "unlock", "revoke"],
    format_func=lambda a: t(f"users.action.{a}"),
    key="users_action",
)
if target:
    st.caption(t("users.failed_logins", n=users.failed_logins(rt, actor, target)))
if st.button(t("users.apply"), key="users_apply"):
    try:
        if action == "set_role":
            users.set_role(rt, actor, target, new_role)
        elif action == "unlock":
            users.unlock(rt, actor, target)
        elif action == "revoke":
            users.revoke_sessions(rt, actor, target)
        else:
            users.set_disabled(rt, actor, target, action == "disable")
        st.success(t("users.done"))
    except PetcareError as exc:
        show_error(exc)
with st.expander(t("users.reset"), icon=":material/password:"):
    with st.form("reset_password", clear_on_submit=True):
        new_password = st.text_input(t("users.new_password"), type="password")
        if st.form_submit_button(t("users.reset")):
            try:
                revoked = users.set_password(rt, actor, target, new_password)
                st.success(t("users.reset_done", n=revoked))
            except PetcareError as exc:
                show_error(exc)
with st.expander(t("users.totp"), icon=":material/phonelink_lock:"):
    on_off = st.columns(2)
    if on_off[0].button(t("users.totp_enable"), key="users_totp_on"):
        try:
            enrolment = totp.enable(rt, actor, target)
            st.info(t("users.totp_uri"))
            st.code(enrolment.uri, language=None)
        except PetcareError as exc:
            show_error(exc)
    if on_off[1].button(t("users.totp_disable"), key="users_totp_off"):
        try:
            totp.disable(rt, actor, target)
            st.success(t("users.totp_off"))
        except PetcareError as exc:
            show_error(exc)
