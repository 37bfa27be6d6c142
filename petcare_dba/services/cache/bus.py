"""Invalidation messages between instances: their one format and the PostgreSQL bus.

A message says only "drop what you cached of this kind about this connection" (or about every
connection). Its text is untrusted: any role that may connect to the metadata database may NOTIFY
on any channel, and anyone who reaches Redis may publish, so `parse` accepts one small JSON shape
and ignores everything else, and nothing in a message is ever stored or shown. The worst a forged
message can do is drop cache entries, which only costs a read of the database. `PgBus` wraps the
db listener (LISTEN/NOTIFY on the metadata store, no Redis needed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from petcare_dba.db import notify
from petcare_dba.db.metastore import MetaStore

KINDS = ("catalog", "schema", "roles", "results")
# Not cache entries: "look again" signals to another part of each instance (issue 19: the
# run-time settings, services/settings_overlay.py). A forged one costs one read of the store.
SIGNALS = ("settings",)
MAX_PAYLOAD = 512
_SENDER = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Message:
    """Drop entries of `kinds` for connection `connection` (None: every connection)."""

    sender: str
    connection: int | None
    kinds: tuple[str, ...] = KINDS

    def text(self) -> str:
        return json.dumps(
            {"v": 1, "from": self.sender, "conn": self.connection, "kinds": list(self.kinds)},
            separators=(",", ":"),
        )


def parse(text: str) -> Message | None:
    """The message in `text`, or None for anything that is not exactly the expected shape."""
    if len(text) > MAX_PAYLOAD:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"v", "from", "conn", "kinds"}:
        return None
    sender, conn, kinds = data["from"], data["conn"], data["kinds"]
    if data["v"] != 1 or not isinstance(sender, str) or not _SENDER.match(sender):
        return None
    if conn is not None and (type(conn) is not int or not 0 < conn < 2**63):
        return None
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS + SIGNALS for k in kinds):
        return None
    return Message(sender, conn, tuple(dict.fromkeys(kinds)))


class PgBus:
    """Invalidation through LISTEN/NOTIFY on the metadata store."""

    name = "postgres listen/notify"

    def __init__(
        self,
        store: MetaStore,
        listen_url: str,
        channel: str,
        on_message: Callable[[str], None],
        on_connect: Callable[[], None],
        connect_timeout: int = 10,
    ) -> None:
        self._store = store
        self.channel = channel
        self._listener = notify.Listener(
            listen_url, channel, on_message, on_connect, connect_timeout=connect_timeout
        )

    @property
    def connected(self) -> bool:
        return self._listener.connected.is_set()

    @property
    def last_error(self) -> str | None:
        return self._listener.last_error

    def start(self, wait_s: float = 10.0) -> bool:
        return self._listener.start(wait_s)

    def publish(self, payload: str) -> None:
        notify.publish(self._store, self.channel, payload)

    def stop(self) -> None:
        self._listener.stop()
