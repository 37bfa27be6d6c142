"""The in-process backend: a bounded LRU of signed bytes with a time to live per entry.

One lock guards an OrderedDict (most recently used last); a put evicts from the old end until
the total fits `max_bytes`; an entry past its expiry is dropped when met. Keys are
`kind:connection:digest` strings, so dropping a connection's entries is one pass over the keys.
Safe under threads: every operation holds the lock for a dictionary operation, never for I/O.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class MemoryBackend:
    """Bounded LRU with TTL, by bytes; the default backend and the fallback of Redis."""

    name = "memory"

    def __init__(self, max_bytes: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, key: str) -> bytes | None:
        now = self._clock()
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= now:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1]

    def set(self, key: str, blob: bytes, ttl_s: float) -> bool:
        if len(blob) > self.max_bytes:
            return False
        expires = self._clock() + ttl_s
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (expires, blob)
            self._bytes += len(blob)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))
        return True

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [k for k in self._items if k.startswith(prefix)]
            for key in doomed:
                self._drop(key)
        return len(doomed)

    def ping(self) -> None:
        """Always reachable."""

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        with self._lock:
            return len(self._items), self._bytes

    def close(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        _, blob = self._items.pop(key)
        self._bytes -= len(blob)
