"""What happens to a Streamlit session's target connections once its browser tab is gone.

Cleanup hooks are registered with `watch` under the Streamlit session that needs them: a running
statement's cancel (jobs), an open explicit transaction's rollback, and, for every signed-in
session, the release of the idle target connections named for it. One daemon thread polls
Streamlit's session manager every POLL_S; once a session is gone for good (closed tab, or
disconnected past `server.disconnectedSessionTTL`: Streamlit then drops it from its session
storage) its hooks run in a thread of their own, in `order`: CANCEL first (each waits for its
run to give the connection back), then ROLLBACK, then RELEASE. So within the TTL plus POLL_S the
tab holds no target connection (reliability Q10). The same thread closes idle connections past
the pools' idle lifetime every SWEEP_S. The registry holds only those hooks, never data a user
sees.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime import Runtime as StRuntime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine

POLL_S = 1.0
SWEEP_S = 10.0
CANCEL, ROLLBACK, RELEASE = 0, 1, 2

_lock = threading.Lock()
_hooks: dict[str, dict[int, tuple[int, Callable[[], Any]]]] = {}
_logins: dict[str, set[str]] = {}  # Streamlit session -> the sign-ins whose idle conns it uses
_sweeps: dict[int, weakref.ref[Runtime]] = {}  # a closed runtime is not kept alive for this
_ids = iter(range(1, 1 << 62))
_watcher: threading.Thread | None = None


def current_session() -> str | None:
    """The id of the Streamlit session running this script, if any."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def watch(session_id: str, hook: Callable[[], Any], order: int = CANCEL) -> int:
    """Call `hook` once the session is gone for good; returns a token for `unwatch`."""
    global _watcher
    with _lock:
        token = next(_ids)
        _hooks.setdefault(session_id, {})[token] = (order, hook)
        if _watcher is None or not _watcher.is_alive():
            _watcher = threading.Thread(
                target=_watch_loop, name="petcare-session-watch", daemon=True
            )
            _watcher.start()
    return token


def unwatch(session_id: str, token: int) -> None:
    with _lock:
        hooks = _hooks.get(session_id)
        if hooks is not None:
            hooks.pop(token, None)
            if not hooks:
                del _hooks[session_id]


def release_on_close(rt: Runtime, actor: Actor) -> None:
    """Once per Streamlit session and sign-in: release its idle target connections at the end.

    Tabs of one sign-in share its application_name (Q11) and so its idle connections; they are
    closed when the last live tab of that sign-in is gone (the idle sweep covers the rest).
    """
    session = current_session()
    if session is None or not StRuntime.exists():
        return  # AppTest, scripts: no server, so no session ever ends
    login = f"{actor.user_id}/{actor.session_id}"
    done: set[str] = st.session_state.setdefault("_release_on_close", set())
    if login in done:
        return
    done.add(login)
    with _lock:
        _logins.setdefault(session, set()).add(login)
        _sweeps.setdefault(id(rt), weakref.ref(rt))

    def release() -> None:
        with _lock:
            mine = _logins.get(session, set())
            mine.discard(login)
            if not mine:
                _logins.pop(session, None)
            others = [s for s, logins in _logins.items() if login in logins]
        if not any(_alive(other) for other in others):
            engine.release_session(rt, actor)

    watch(session, release, RELEASE)


def _alive(session_id: str) -> bool:
    """False once Streamlit has forgotten the session (closed, or disconnected past its TTL)."""
    if not StRuntime.exists():
        return True  # AppTest and scripts without a server: nothing closes sessions
    try:
        manager = StRuntime.instance()._session_mgr  # no public lookup of stored sessions
        return manager.get_session_info(session_id) is not None
    except Exception:
        return True  # never clean up on a lookup failure


def _end(hooks: list[tuple[int, Callable[[], Any]]]) -> None:
    for _order, hook in sorted(hooks, key=lambda pair: pair[0]):
        try:
            hook()
        except Exception:  # noqa: S112 - one failing hook must not stop the others
            continue


def _watch_loop() -> None:
    swept = time.monotonic()
    while True:
        time.sleep(POLL_S)
        with _lock:
            sessions = list(_hooks)
        for session_id in sessions:
            if _alive(session_id):
                continue
            with _lock:
                hooks = list(_hooks.pop(session_id, {}).values())
            # A thread per ended session: a hook that waits for a cancelled run to finish must
            # not delay the other sessions' cleanup.
            threading.Thread(
                target=_end, args=(hooks,), name="petcare-session-end", daemon=True
            ).start()
        if time.monotonic() - swept >= SWEEP_S:
            swept = time.monotonic()
            with _lock:
                alive = [rt for ref in _sweeps.values() if (rt := ref()) is not None]
            _end([(RELEASE, functools.partial(engine.sweep, rt)) for rt in alive])
