"""Users (admins): list, create, change role, disable/enable and unlock."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import users
from petcare_dba.services.actor import ROLES
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("users.title"))
with st.expander(t("users.new"), icon=":material/person_add:"):
    with st.form("new_user", clear_on_submit=True):
        name = st.text_input(t("login.username"))
        role = st.selectbox(t("users.role"), ROLES)
        password = st.text_input(t("login.password"), type="password")
        if st.form_submit_button(t("users.create"), type="primary"):
            try:
                users.add_user(rt, actor, name, role, password)
                st.success(t("users.created", name=name))
            except PetcareError as exc:
                show_error(exc)
people = users.list_users(rt, actor)
st.dataframe(
    [
        {
            "username": u.username,
            "role": u.role,
            "disabled": u.disabled,
            "email": u.email,
            "created": u.created_at,
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
    ["set_role", "disable", "enable", "unlock"],
    format_func=lambda a: t(f"users.action.{a}"),
    key="users_action",
)
if st.button(t("users.apply"), key="users_apply"):
    try:
        if action == "set_role":
            users.set_role(rt, actor, target, new_role)
        elif action == "unlock":
            users.unlock(rt, actor, target)
        else:
            users.set_disabled(rt, actor, target, action == "disable")
        st.success(t("users.done"))
        st.rerun()
    except PetcareError as exc:
        show_error(exc)
