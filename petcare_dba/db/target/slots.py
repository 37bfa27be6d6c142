"""The per-user cap on target connections: one `Slots` counter per (stored connection, app user).

The cap (max_connections_per_user, reliability F7) is shared by the engine's pools and by every
other feature that opens a target connection on a user's behalf (explorer, index what-if,
assistant context, backups, connection tests): `Slots.hold` and a pool's checkout both take a
`Slot`, and both give the same "busy" error after the wait (F5). With `Slots.shared` set (the
runtime does), a slot is also taken from a counter on the metadata store (`db.shared_slots`), so
the cap holds across instances behind a load balancer. It is apart from `pool` (which opens,
reuses and drains connections) because it counts connections without holding any: the features
that connect on their own use it without a pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from petcare_dba.errors import Unavailable
from petcare_dba.messages import say


class SharedCounter(Protocol):
    """Slots counted across instances (`db.shared_slots.SharedSlots`)."""

    def acquire(
        self, connection_id: int, user_id: int, max_size: int, wait_timeout: float
    ) -> int: ...
    def release(self, key: int) -> None: ...


class Slot:
    """At most `max_size` concurrent target connections of one user on one stored connection.

    The semaphore counts this process; with `shared` set, the slot is also taken from the
    counter every instance sees, so N instances still allow `max_size`, not N times it.
    """

    def __init__(
        self,
        max_size: int,
        shared: SharedCounter | None = None,
        ids: tuple[int, int] = (0, 0),
    ) -> None:
        self.max_size = max(1, max_size)
        self._sem = threading.BoundedSemaphore(self.max_size)
        self.shared = shared
        self.ids = ids
        self.in_use = 0  # read by /metrics
        self._count = threading.Lock()

    @contextmanager
    def held(self, wait_timeout: float) -> Iterator[None]:
        """Take one slot for the duration; 'busy' error after wait_timeout seconds."""
        deadline = time.monotonic() + max(wait_timeout, 0.0)
        if not self._sem.acquire(timeout=max(wait_timeout, 0.0)):
            raise Unavailable(
                say("msg.target.busy", n=self.max_size, waited=f"{wait_timeout:g}"),
                hint=say("msg.target.busy.hint"),
            )
        with self._count:
            self.in_use += 1
        try:
            key = None
            if self.shared is not None:
                left = max(deadline - time.monotonic(), 0.0)
                key = self.shared.acquire(self.ids[0], self.ids[1], self.max_size, left)
            try:
                yield
            finally:
                if key is not None and self.shared is not None:
                    self.shared.release(key)
        finally:
            with self._count:
                self.in_use -= 1
            self._sem.release()


class Slots:
    """The Slot of every (connection id, user id) of one runtime."""

    def __init__(self, shared: SharedCounter | None = None) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[int, int], Slot] = {}
        self.shared = shared

    def get(self, connection_id: int, user_id: int, max_size: int) -> Slot:
        key = (connection_id, user_id)
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.max_size != max(1, max_size) or slot.shared is not self.shared:
                # A changed cap starts a new counter; holders of the old one release into it.
                slot = self._slots[key] = Slot(max_size, self.shared, key)
            return slot

    def in_use(self) -> int:
        """Target connections held right now, over every (connection, user)."""
        with self._lock:
            return sum(slot.in_use for slot in self._slots.values())

    @contextmanager
    def hold(
        self, connection_id: int, user_id: int, *, max_size: int, wait_timeout: float
    ) -> Iterator[None]:
        """One slot of (connection, user) for a connection opened outside the engine's pools."""
        with self.get(connection_id, user_id, max_size).held(wait_timeout):
            yield
