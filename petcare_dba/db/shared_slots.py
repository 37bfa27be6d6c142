"""Per-user connection slots counted across instances: session advisory locks on the metadata store.

Slot i of (stored connection, app user) is one 64-bit advisory lock key; an instance holds the
slots it uses as session-level locks on one dedicated connection of its own. PostgreSQL holds
such a lock exactly as long as that session lives, so a crashed or killed instance's slots are
free again the moment its backend notices the dead socket (at once for a killed process, within
the keepalive time for a vanished host): no lease table, no heartbeat, no expiry to tune. A
session-level lock is re-entrant within its session, so the instance also remembers which keys it
holds and never asks for one twice. After a reconnect (metadata store restart) the locks are
gone; the instance takes back the keys it still holds where it can. The connection needs a
session: a direct URL or a session-mode pooler, not a transaction pooler. A slot given back
lingers, locked but idle, for `linger_s` (setting `slot_linger_s`) before a background thread
unlocks it: the same user's next statement on this instance takes it again with no round trip
(issue 16: a statement's request path costs one metadata round trip, the audit intent), and the
user's other instances see it free at most `linger_s` later, which their wait for a slot absorbs.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from typing import Any

import psycopg

from petcare_dba.db import queries
from petcare_dba.db.errors import translate
from petcare_dba.errors import PetcareError, Unavailable
from petcare_dba.messages import say

_POLL_S = (0.02, 0.25)  # first and longest pause between tries while every slot is taken


def slot_key(namespace: str, connection_id: int, user_id: int, index: int) -> int:
    """The advisory lock key of one slot (a signed 64-bit digest; a collision only tightens)."""
    text = f"petcare-slot:{namespace}:{connection_id}:{user_id}:{index}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big", signed=True)


class SharedSlots:
    """Take and give back slots that every instance on the metadata store sees."""

    def __init__(
        self, url: str, namespace: str, *, connect_timeout: int = 10, linger_s: float = 2.0
    ) -> None:
        self.url = url
        self.linger_s = linger_s
        self.namespace = namespace
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[int] = set()  # locked by this session: in use, or idle (below)
        self._idle: dict[int, float] = {}  # given back, still locked: key -> when to unlock
        self._sweeper: threading.Thread | None = None

    def warm(self) -> None:
        """Open the session now (start-up); a failure is left for the first slot to report."""
        with self._lock, contextlib.suppress(PetcareError):
            self._connection()

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=self.connect_timeout,
                application_name="petcare-dba/slots",
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
        except psycopg.Error as exc:
            raise translate(exc) from exc
        self._conn = conn
        # The old session's locks died with it: take back what this instance still uses.
        for key in list(self._held):
            conn.execute(queries.get("slot_try_lock"), {"key": key})
        return conn

    def _try(self, keys: list[int]) -> int | None:
        with self._lock:
            try:
                conn = self._connection()  # no round trip while the session is alive
                for key in keys:  # a lingering slot of this user: no round trip either
                    if self._idle.pop(key, None) is not None:
                        return key
                for key in keys:
                    if key in self._held:
                        continue
                    row = conn.execute(queries.get("slot_try_lock"), {"key": key}).fetchone()
                    if row and row[0]:
                        self._held.add(key)
                        return key
            except psycopg.Error as exc:
                self._conn = None
                raise translate(exc) from exc
        return None

    def acquire(self, connection_id: int, user_id: int, max_size: int, wait_timeout: float) -> int:
        """A free slot's key; 'busy' (Unavailable) when all are taken for wait_timeout."""
        keys = [slot_key(self.namespace, connection_id, user_id, i) for i in range(max_size)]
        deadline = time.monotonic() + max(wait_timeout, 0.0)
        pause = _POLL_S[0]
        while True:
            key = self._try(keys)
            if key is not None:
                return key
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable(
                    say("msg.target.busy_instances", n=max_size, waited=f"{wait_timeout:g}"),
                    hint=say("msg.target.busy.hint"),
                )
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_S[1])

    def release(self, key: int) -> None:
        """Give a slot back: it lingers idle and the sweeper unlocks it (off the request path)."""
        with self._lock:
            if key not in self._held:
                return
            self._idle[key] = time.monotonic() + self.linger_s
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=self._sweep, name="petcare-slot-sweeper", daemon=True
                )
                self._sweeper.start()

    def _sweep(self) -> None:
        """Unlock the slots idle past linger_s; ends when none is left idle."""
        while True:
            with self._lock:
                if not self._idle:
                    self._sweeper = None
                    return
                now = time.monotonic()
                due = [k for k, at in self._idle.items() if at <= now]
                for key in due:
                    del self._idle[key]
                    self._unlock(key)
                wake = min(self._idle.values(), default=now) - now
            time.sleep(max(wake, 0.05))

    def _unlock(self, key: int) -> None:
        """Unlock one key this session holds (caller holds self._lock)."""
        self._held.discard(key)
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return  # the session is gone, and its locks with it
        try:
            conn.execute(queries.get("slot_unlock"), {"key": key})
        except psycopg.Error:
            self._conn = None
            self._idle.clear()
            self._held.clear()
            conn.close()  # closing the session frees every lock it held

    def held(self) -> int:
        """Slots in use by this instance now (lingering idle ones are not counted)."""
        with self._lock:
            return len(self._held) - len(self._idle)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._held.clear()
            self._idle.clear()
