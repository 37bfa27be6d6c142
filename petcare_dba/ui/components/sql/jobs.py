"""Background statements of the SQL editor, their Cancel button, and cleanup when a tab closes.

A statement runs in a worker thread (`Job`) with a `CancelHandle`, so the page stays responsive
and a Cancel button can stop it (`engine.cancel`: libpq's cancel request, 57014, reliability
Q9). Each job is also registered with `session_end.watch` under the Streamlit session that
started it, so once that session is gone for good (closed tab, past
`server.disconnectedSessionTTL`) its statement is cancelled and its connection given back
before the session's idle connections are released (Q10).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.messages import say
from petcare_dba.services.sql import CancelHandle, engine
from petcare_dba.ui.session_end import CANCEL, current_session, unwatch, watch

CANCEL_WAIT_S = 5.0  # how long a closed tab's cleanup waits for a cancelled run to end


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
        self._token = watch(session, self._abandon, CANCEL) if session else None
        self._session = session
        self._thread = threading.Thread(target=self._run, name="petcare-editor-job", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._work(self.handle)
        except PetcareError as exc:
            self.error = exc
        except Exception as exc:  # a bug must not leave the page waiting forever
            self.error = PetcareError(say("msg.unexpected", kind=type(exc).__name__))
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

    def _abandon(self) -> None:
        """The tab is gone: cancel, and wait a little for the connection to be given back."""
        self.cancel()
        self.wait(CANCEL_WAIT_S)
