"""LISTEN/NOTIFY on the metadata store: a listener thread per process and the publish call.

The cache layer uses it to tell every instance "drop what you cached about connection X". The
listener holds one dedicated session (LISTEN needs a session, so the URL must reach PostgreSQL
directly or through a session-mode pooler), reconnects with a capped backoff after a restart or a
terminated backend, and calls `on_connect` after every (re)connect: notifications sent while it
was away are lost, so the caller drops everything it holds instead. Any role that may connect to
the database may NOTIFY on any channel, so the payload is handed on as untrusted text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

from petcare_dba.db.errors import translate
from petcare_dba.db.metastore import ANONYMOUS, MetaStore

POLL_S = 0.1  # how often the thread looks at its stop flag between notifications
MAX_BACKOFF_S = 5.0


def publish(store: MetaStore, channel: str, payload: str) -> None:
    """Send `payload` on `channel` (one implicit transaction, delivered at once)."""
    store.call(ANONYMOUS, "cache_notify", {"channel": channel, "payload": payload})


class Listener:
    """A daemon thread that LISTENs on one channel and hands each payload to `on_message`."""

    def __init__(
        self,
        url: str,
        channel: str,
        on_message: Callable[[str], None],
        on_connect: Callable[[], None],
        *,
        connect_timeout: int = 10,
        application_name: str = "petcare-dba/listen",
    ) -> None:
        self.url = url
        self.channel = channel
        self.on_message = on_message
        self.on_connect = on_connect
        self.connect_timeout = connect_timeout
        self.application_name = application_name
        self.connected = threading.Event()
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"listen-{channel}", daemon=True)

    def start(self, wait_s: float = 10.0) -> bool:
        """Start the thread; True once LISTEN is in place (False: it keeps retrying)."""
        self._thread.start()
        return self.connected.wait(wait_s)

    def stop(self) -> None:
        """Stop listening; the thread sees the flag within POLL_S."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=POLL_S + self.connect_timeout)

    def _call(self, callback: Callable[..., None], *args: str) -> None:
        # A failing callback must not end the thread: later invalidations would be lost.
        try:
            callback(*args)
        except Exception as exc:
            self.last_error = f"callback failed: {type(exc).__name__}"

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=self.connect_timeout,
                    application_name=self.application_name,
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.last_error = None
                    self._call(self.on_connect)
                    self.connected.set()
                    backoff = 0.1
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=POLL_S):
                            self._call(self.on_message, note.payload)
            except psycopg.Error as exc:
                self.last_error = translate(exc).message
            finally:
                self.connected.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
