"""The sign-in form, the session-cookie handoff and the unexpected-error message.

One generic message for any failure (no user enumeration). When the app is served through
`ui/server.py`, a successful sign-in also hands the session to the browser's HttpOnly cookie: the
page embeds `/auth/frame#session=…` (a single-use code bound to this browser's pre-auth nonce
cookie), whose same-origin POST gets the server response that sets the cookie, so no script ever
touches the token. On a page reload the new Streamlit session finds the cookie
in `st.context.cookies` (sent with the websocket handshake), re-validates it against the
server-side session (idle/absolute expiry, revocation) and continues signed in; a dead cookie is
cleared through `/auth/logout`. Without the server (AppTest, plain `streamlit run app.py`) the
token lives only in the server-side session state and a reload asks for a new sign-in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.security import auth, handoff, oidc
from petcare_dba.ui import i18n, state, streamlit_config
from petcare_dba.ui.components.errors import show_error

t = state.t
COOKIE_NAME = "petcare_session"
PREAUTH_COOKIE = "petcare_preauth"
COOKIE_ROUTES_ENV = "_PETCARE_COOKIE_ROUTES"
# The frame's POST takes ~50 ms on a quiet server; under load (bench scale: 50 sign-ins on two
# saturated cores, sign-in p95 24 s) one took over 10 s, the wait ended first and the user's
# reload asked for a new sign-in. The wait costs nothing when the POST is quick, and a code
# lives HANDOFF_SECONDS (60 s), so the wait may use half of that. It looks at the store less
# often as it goes on (0.05 s doubling to 0.5 s): ~65 reads at most, none when this process's
# cookie route took the code (it tells the wait at once).
HANDOFF_WAIT_S = 30.0
WARMUP_KEY = "login_chart_warmup"
HANDOFF_POLL_S = (0.05, 0.5)


def cookie_routes() -> bool:
    """True when ui/server.py serves the cookie routes in this process."""
    return os.environ.get(COOKIE_ROUTES_ENV) == "1"


def session_cookie(name: str = COOKIE_NAME) -> str:
    """A cookie sent with this browser session's handshake (or '')."""
    try:
        cookies = st.context.cookies
    except Exception:
        return ""
    if not isinstance(cookies, Mapping):  # AppTest hands out mocks
        return ""
    value = cookies.get(name)
    return value if isinstance(value, str) else ""


def _hidden_frame(src: str) -> None:
    # A 1-pixel same-origin frame: the server's response sets or clears the cookie.
    st.iframe(src, height=1, width=1)


def restore_from_cookie() -> bool:
    """Adopt a live cookie session; clear a dead cookie. True when signed in again."""
    token = session_cookie()
    if not token:
        return False
    rt = state.runtime()
    if auth.resolve(rt.store, rt.settings, token, state.client_addr()) is not None:
        st.session_state["token"] = token
        return True
    if cookie_routes() and not st.session_state.get("cookie_cleared"):
        st.session_state["cookie_cleared"] = True
        _hidden_frame(streamlit_config.base_path() + "/auth/frame#logout")
    return False


def _hand_off_to_cookie(signed: auth.SignIn) -> None:
    """Let the server set the HttpOnly cookie, and wait (briefly) until the browser did."""
    rt = state.runtime()
    try:
        binding = session_cookie(PREAUTH_COOKIE)  # the nonce this browser holds (U5)
        code = handoff.create_handoff(rt.store, rt.keyring, signed.actor, signed.token, binding)
    except PetcareError:
        return  # the session still works; only a reload will ask for a new sign-in
    _hidden_frame(streamlit_config.base_path() + "/auth/frame#session=" + quote(code, safe=""))
    handoff.wait_for_handoff(rt.store, signed.actor, code, HANDOFF_WAIT_S, HANDOFF_POLL_S)


def _signed_in(signed: auth.SignIn) -> None:
    st.session_state["token"] = signed.token
    st.session_state.pop("cookie_cleared", None)
    if signed.actor.language in i18n.LANGUAGES:
        st.session_state["lang"] = signed.actor.language
    if cookie_routes():
        _hand_off_to_cookie(signed)
    st.rerun()


def _oidc() -> None:
    """Sign in with the OIDC provider configured for st.login, mapped to an app user."""
    rt = state.runtime()
    if not rt.settings.oidc_enabled:
        return
    user = st.user
    if not user.is_logged_in:
        st.button(t("login.oidc"), icon=":material/key:", on_click=st.login)
        return
    try:
        signed = oidc.login(
            rt.store,
            rt.settings,
            str(user.get("sub") or ""),
            str(user.get("email") or "") or None,
            email_verified=bool(user.get("email_verified")),
            issuer=str(user.get("iss") or ""),
            client_addr=state.client_addr(),
        )
    except PetcareError:
        st.error(t("login.oidc_unknown"))
        st.logout()
        return
    _signed_in(signed)


def _warm_charts() -> None:
    """Have the browser load the chart library while the user types (issue 19, fast pages).

    The dashboard's figures are Plotly, whose browser bundle (~4.7 MB) Streamlit fetches and
    compiles on the first chart a tab shows: seconds on a slow machine, all of them after the
    sign-in otherwise. An empty figure in a container hidden by CSS shows nothing and costs the
    server nothing but its own message.
    """
    with st.container(key=WARMUP_KEY):
        st.html(f"<style>.st-key-{WARMUP_KEY} {{display: none}}</style>")
        st.plotly_chart({"data": [{"type": "scatter"}]}, key=WARMUP_KEY + "_figure")


def login_page() -> None:
    if restore_from_cookie():
        st.rerun()
    st.title(t("login.title"))
    st.caption(t("login.subtitle"))
    if st.session_state.pop("expired", False):
        st.info(t("login.expired"))
    with st.form("login", clear_on_submit=False):
        username = st.text_input(t("login.username"), key="login_username")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        code = st.text_input(t("login.totp"), key="login_totp", max_chars=6)
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if submitted:
        rt = state.runtime()
        try:
            signed = auth.login(
                rt.store,
                rt.settings,
                username,
                password,
                client_addr=state.client_addr(),
                totp_code=code or None,
                keyring=rt.keyring,
            )
        except PetcareError:
            st.error(t("login.failed"))
            return
        finally:
            # the password never stays in session state after the attempt
            st.session_state.pop("login_password", None)
        _signed_in(signed)
    _oidc()
    _warm_charts()


def show_unexpected(ref: str) -> None:
    """The generic message for an unexpected error: a reference, no traceback (S4)."""
    show_error(PetcareError(t("security.unexpected_error", ref=ref)), ref=ref)
