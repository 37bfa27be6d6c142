"""The sign-in form: one generic message for any failure (no user enumeration)."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import auth
from petcare_dba.ui import i18n, state

t = state.t


def login_page() -> None:
    st.title(t("login.title"))
    st.caption(t("login.subtitle"))
    if st.session_state.pop("expired", False):
        st.info(t("login.expired"))
    with st.form("login", clear_on_submit=False):
        username = st.text_input(t("login.username"), key="login_username")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if submitted:
        rt = state.runtime()
        try:
            signed = auth.login(
                rt.store, rt.settings, username, password, client_addr=state.client_addr()
            )
        except PetcareError:
            st.error(t("login.failed"))
            return
        st.session_state["token"] = signed.token
        if signed.actor.language in i18n.LANGUAGES:
            st.session_state["lang"] = signed.actor.language
        st.rerun()
