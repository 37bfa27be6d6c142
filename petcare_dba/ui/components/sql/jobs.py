"""Background statements of the SQL editor, their Cancel button, and cleanup when a tab closes.

A statement runs in a worker thread (`Job`) with a `CancelHandle`, so the page stays responsive
and a Cancel button can stop it (`engine.cancel`: libpq's cancel request, 57014, reliability
Q9). Each job (and each open explicit transaction) is also registered with `watch` under the
Streamlit session that started it; one daemon thread polls Streamlit's session manager and,
once a session is gone for good (closed tab, past `server.disconnectedSessionTTL`), cancels its
statements and rolls back its transaction (Q10). The registry holds only those cleanup hooks,
never data a user sees.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from streamlit.runtime import Runtime as StRuntime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from petcare_dba.errors import PetcareError
from petcare_dba.services.sql import CancelHandle, engine

POLL_S = 1.0

_lock = threading.Lock()
_hooks: dict[str, dict[int, Callable[[], None]]] = {}
_ids = iter(range(1, 1 << 62))
_watcher: threading.Thread | None = None


class Job:
    """One call of `work(handle)` in a daemon thread; holds its result or its PetcareError."""

    def __init__(self, work: Callable[[CancelHandle], Any], label: str = "") -> None:
        self.handle = engine.new_handle()
        self.label = label
        self.started = time.monotonic()
        self.finished: float | None = None
        self.result: Any = None
        self.error: PetcareError | None = None
        self.cancel_requested = False
        self._done = threading.Event()
        self._work = work
        session = current_session()
        self._token = watch(session, self.cancel) if session else None
        self._session = session
        self._thread = threading.Thread(target=self._run, name="petcare-editor-job", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._work(self.handle)
        except PetcareError as exc:
            self.error = exc
        except Exception as exc:  # a bug must not leave the page waiting forever
            self.error = PetcareError(f"unexpected error: {type(exc).__name__}")
        finally:
            self.finished = time.monotonic()
            if self._session and self._token:
                unwatch(self._session, self._token)
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the server to cancel the running statement; later statements do not start."""
        self.cancel_requested = True
        engine.cancel(self.handle)


def current_session() -> str | None:
    """The id of the Streamlit session running this script, if any."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def watch(session_id: str, hook: Callable[[], None]) -> int:
    """Call `hook` once the session is gone for good; returns a token for `unwatch`."""
    global _watcher
    with _lock:
        token = next(_ids)
        _hooks.setdefault(session_id, {})[token] = hook
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


def _alive(session_id: str) -> bool:
    """False once Streamlit has forgotten the session (closed, or disconnected past its TTL)."""
    if not StRuntime.exists():
        return True  # AppTest and scripts without a server: nothing closes sessions
    try:
        manager = StRuntime.instance()._session_mgr  # no public lookup of stored sessions
        return manager.get_session_info(session_id) is not None
    except Exception:
        return True  # never cancel on a lookup failure


def _watch_loop() -> None:
    while True:
        time.sleep(POLL_S)
        with _lock:
            sessions = list(_hooks)
        for session_id in sessions:
            if _alive(session_id):
                continue
            with _lock:
                hooks = list(_hooks.pop(session_id, {}).values())
            for hook in hooks:
                try:
                    hook()
                except Exception:  # noqa: S112 - one failing hook must not stop the others
                    continue
