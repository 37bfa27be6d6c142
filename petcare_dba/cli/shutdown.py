"""How the long-running commands (`up`, `worker`) stop: SIGTERM and SIGINT ask, a watchdog bounds.

systemd, Docker and Kubernetes send SIGTERM; a terminal sends SIGINT. Either sets one event that
the command's main thread waits on; the command then stops what it runs in order (the app server,
the jobs, the embedded PostgreSQL) within `shutdown_timeout_s`. During start-up (`raising`) a
signal raises `Interrupted` in the main thread instead, so start-up unwinds (closing the store,
stopping the embedded server it started) rather than finishing a long step first. A watchdog
started with the stop ends the process if the clean stop overruns that bound by five seconds
(exit 1, saying so), so a stuck thread never keeps an orchestrator waiting for its own SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

GRACE_S = 5.0


class Interrupted(BaseException):
    """A stop signal arrived during start-up."""


class StopSignal:
    """Catches SIGTERM and SIGINT (main thread only); `wait` returns once one arrived."""

    def __init__(self, *, raising: bool = False) -> None:
        self.event = threading.Event()
        self.signal: int | None = None
        self.raising = raising

    def install(self) -> StopSignal:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum
        self.event.set()
        if self.raising:
            self.raising = False  # once: the unwinding itself must not be interrupted
            raise Interrupted(signum)

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else "stop"


def watchdog(seconds: float, what: str) -> threading.Timer:
    """End the process (exit 1) if the stop takes longer than `seconds` plus a grace."""

    def overrun() -> None:
        print(f"error: {what} did not stop within {seconds:g} s; exiting", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(seconds + GRACE_S, overrun)
    timer.daemon = True
    timer.start()
    return timer
