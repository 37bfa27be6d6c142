"""Per-process runtime and per-session user state for the Streamlit pages.

The runtime (pool, keyring, settings) is cached per process with `st.cache_resource`: it holds no
user data. Everything about the user lives in `st.session_state` (the session token, the chosen
connection and language) and is re-validated against the server-side session once per rerun (or
not at all within `session_check_window_s` of the last check, see services/security/
session_cache), so a revoked or expired session stops working within seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from petcare_dba import settings as settings_mod
from petcare_dba.errors import PetcareError
from petcare_dba.services import client_address
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth
from petcare_dba.services.sql import engine
from petcare_dba.ui import i18n, session_end
from petcare_dba.ui.components.format import zone

# The runtimes this process opened, so the server's shutdown can stop them without opening one.
_OPENED: list[Runtime] = []
# The actor the router checked for the script run on this thread (`checked`).
_run = threading.local()


@st.cache_resource(show_spinner=False)
def runtime() -> Runtime:
    """The process-wide runtime (no user data: safe to share between sessions)."""
    rt = Runtime.start(settings_mod.load())
    _OPENED.append(rt)
    return rt


def drain() -> None:
    """Shutdown, first step: start no statement, cancel the running ones (audited 'cancelled')."""
    for rt in list(_OPENED):
        engine.drain(rt, float(rt.settings.shutdown_timeout_s) * 0.4)


def close() -> None:
    """Shutdown, last step: close every runtime this process opened."""
    while _OPENED:
        _OPENED.pop().close()


def _peer() -> str | None:
    """The TCP peer of this session's websocket.

    `st.context.ip_address` hides loopback peers (None), but a same-host proxy is exactly the
    peer whose forwarding headers may be trusted, so the raw peer is read from the session's
    client context (Streamlit's own "unforgeable TCP peer"); the public value is the fallback.
    `up` runs uvicorn with FORWARDED_ALLOW_IPS empty, so the peer is never rewritten before us.
    """
    try:
        from streamlit.runtime.context import _get_client_context

        context = _get_client_context()
        remote = getattr(context, "remote_ip", None)
        if isinstance(remote, str):
            return remote
    except Exception:  # noqa: S110 - a Streamlit without it: fall back to the public value
        pass
    try:
        value = st.context.ip_address
    except Exception:
        return None
    return value if isinstance(value, str) else None  # AppTest hands out mocks


def _headers() -> list[tuple[str, str]]:
    try:
        headers = st.context.headers
        return [(k, v) for k in headers for v in headers.get_all(k) if isinstance(v, str)]
    except Exception:
        return []


def client_addr() -> str | None:
    """The client address the login throttle counts (issue 13: see services/client_address)."""
    if "client_addr" not in st.session_state:  # one websocket, one peer: resolve once
        trusted = client_address.parse_trusted(str(runtime().settings.trusted_proxies))
        st.session_state["client_addr"] = client_address.resolve(_peer(), _headers(), trusted)
    value = st.session_state["client_addr"]
    return value if isinstance(value, str) else None


@contextmanager
def checked(actor: Actor) -> Iterator[None]:
    """Within this script run, `current_actor()` is `actor`: the router checked it already.

    So a rerun checks its session once, however many pages and components ask (issue 19). A
    fragment's own rerun does not pass through the router and checks again.
    """
    _run.actor = actor
    try:
        yield
    finally:
        _run.actor = None


def current_actor() -> Actor | None:
    """The signed-in actor for this session, or None (also clears a dead token)."""
    token = st.session_state.get("token")
    if not token:
        return None
    checked_actor = getattr(_run, "actor", None)
    if isinstance(checked_actor, Actor):
        return checked_actor
    rt = runtime()
    actor = auth.resolve(rt.store, rt.settings, token, client_addr())
    if actor is None:
        st.session_state.pop("token", None)
        st.session_state["expired"] = True
    else:
        session_end.release_on_close(rt, actor)  # its idle target connections go with the tab
    return actor


def language() -> str:
    """The language of this session."""
    if get_script_run_ctx(suppress_warning=True) is None:
        # Outside a script run (AppTest formats widgets' options from its own thread) there is
        # no session to read: st.session_state there is a process-wide stand-in that another
        # session's language may have reached. The deployment's default, then.
        try:
            return str(runtime().settings.default_language)
        except PetcareError:
            return "en"
    if "lang" not in st.session_state:
        try:
            browser = st.context.locale
        except Exception:
            browser = None
        if not isinstance(browser, str):  # AppTest hands out mocks
            browser = None
        default = "en"
        try:
            default = runtime().settings.default_language
        except PetcareError:
            pass
        st.session_state["lang"] = i18n.pick_language(None, browser, default)
    return str(st.session_state["lang"])


def t(key: str, **values: object) -> str:
    """Translate a UI string into the session's language."""
    return i18n.translate(language(), key, **values)


def choices(prefix: str) -> Callable[[object], str]:
    """A widget's format_func saying `<prefix><option>` in this session's language.

    The language is read now, during the run: Streamlit may format a widget's options outside
    the script run (AppTest does, when it gathers widget states), where no session is known.
    """
    lang = language()
    return lambda option: i18n.translate(lang, f"{prefix}{option}")


def require_actor() -> Actor:
    """The signed-in actor; pages are only routed after login, so this stops otherwise."""
    actor = current_actor()
    if actor is None:
        st.stop()
    return actor


def chosen_connection() -> str | None:
    """The connection picked in the sidebar."""
    value = st.session_state.get("connection")
    return str(value) if value else None


def timezone() -> dt.tzinfo:
    """The browser's time zone (the server's when unknown, as under AppTest)."""
    try:
        name = st.context.timezone
    except Exception:  # outside a browser session
        name = None
    return zone(name if isinstance(name, str) else None)
