"""The in-process delivery thread: runs the outbox job off the sampling loop.

Until the worker (`petcare-dba worker`) runs `outbox.deliver_due` as a leader-free background
job, each app process delivers from one small daemon thread of its own, started the first time
an alert is raised or the alerts page is shown (`wake`), and stopped with its runtime. The
collector only writes outbox rows and wakes the thread, so a slow or dead receiver never delays
a sampling round. Setting `alert_delivery_thread = false` leaves delivery to the worker.
Several threads (instances) at once are safe: rows are claimed with SKIP LOCKED.
"""

from __future__ import annotations

import logging
import threading

from petcare_dba.services.alerts import outbox
from petcare_dba.services.runtime import Runtime

log = logging.getLogger(__name__)


class Deliverer(threading.Thread):
    """Loops `outbox.deliver_due` every `alert_delivery_poll_s` or when woken."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="petcare-alert-delivery", daemon=True)
        self.rt = rt
        self.woken = threading.Event()
        self.stopping = threading.Event()
        self.last_report: outbox.DeliveryReport | None = None
        self.last_error: str | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.rt.store.pool.closed:
                return  # the runtime was closed
            self.woken.clear()
            try:
                self.last_report = outbox.deliver_due(self.rt)
                self.last_error = None
            except Exception as exc:  # the loop must outlive a bad round (store restarting)
                self.last_error = str(exc)
                log.warning("alert delivery round failed: %s", exc)
            self.woken.wait(float(self.rt.settings.alert_delivery_poll_s))

    def stop(self) -> None:
        self.stopping.set()
        self.woken.set()


_RUNNING: dict[int, Deliverer] = {}
_GUARD = threading.Lock()


def wake(rt: Runtime) -> Deliverer | None:
    """Start this runtime's delivery thread if needed and make it look at the outbox now."""
    if not rt.settings.alert_delivery_thread:
        return None
    with _GUARD:
        current = _RUNNING.get(id(rt))
        if current is None or not current.is_alive():
            current = Deliverer(rt)
            _RUNNING[id(rt)] = current
            current.start()
            rt.closers.append(lambda: stop(rt))
    current.woken.set()
    return current


def stop(rt: Runtime) -> None:
    """Stop this runtime's delivery thread (after the row it is sending)."""
    with _GUARD:
        current = _RUNNING.pop(id(rt), None)
    if current is not None:
        current.stop()
        current.join(timeout=30)
