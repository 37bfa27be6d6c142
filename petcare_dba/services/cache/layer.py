"""The cache of one process: one interface over the memory or Redis backend, and invalidation.

`Cache.get/put` take a kind (`catalog`, `schema`, `roles`, `results`), the stored connection the
entry is about and the parts of its key (digested here, so no part is ever stored in clear).
`invalidate(connection)` drops the entries of that connection here and sends a message on the
bus, so every other instance drops them too. A read that began before an invalidation must not
put its (old) value back afterwards: callers take `generation(connection)` before reading the
database and hand it to `put`, which refuses when an invalidation came in meanwhile. When the bus
reconnects, messages may have been lost, so the local entries are dropped then as well.
`open_cache` builds the cache from settings; a Redis that cannot be reached at start-up gives the
in-process backend with a warning and a degraded health check, never a failed start.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import ConfigError, PetcareError
from petcare_dba.services.cache import bus as bus_mod
from petcare_dba.services.cache import codec, redis_store
from petcare_dba.services.cache.memory import MemoryBackend
from petcare_dba.settings import Settings

log = logging.getLogger(__name__)
KINDS = bus_mod.KINDS
_MEMO_ENTRIES = 32  # built objects kept beside their entries (catalogs, schema indexes)
# 57: the NOTIFY channel "<namespace>_cache" must fit PostgreSQL's 63-byte names, and an unset
# namespace is the store prefix, which may be that long.
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,56}$")
Generation = tuple[int, int]


class Backend(Protocol):
    name: str

    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, blob: bytes, ttl_s: float) -> bool: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def ping(self) -> None: ...
    def usage(self) -> tuple[int, int]: ...
    def close(self) -> None: ...


class Bus(Protocol):
    name: str

    @property
    def connected(self) -> bool: ...
    @property
    def last_error(self) -> str | None: ...
    def start(self, wait_s: float = 10.0) -> bool: ...
    def publish(self, payload: str) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Health:
    """What `petcare-dba health` and the health page show about the cache."""

    configured: str
    backend: str
    degraded: bool
    detail: str
    bus: str
    bus_connected: bool
    entries: int
    bytes: int
    hits: int
    misses: int
    ignored_messages: int


class Cache:
    """Get, put and invalidate cached values of one process (see the module docstring)."""

    def __init__(
        self,
        backend: Backend,
        *,
        namespace: str = "petcare",
        ttl_s: float = 300.0,
        max_entry_bytes: int = 16 * 1024 * 1024,
        key: bytes | None = None,
        configured: str = "memory",
    ) -> None:
        self.backend = backend
        self.namespace = namespace
        self.ttl_s = float(ttl_s)
        self.max_entry_bytes = max_entry_bytes
        self.instance_id = uuid.uuid4().hex
        self.configured = configured
        self.degraded_reason: str | None = None
        self.bus: Bus | None = None
        self._key = key or secrets.token_bytes(32)
        self._prefix = f"{namespace}:cache:"
        self._lock = threading.Lock()
        self._generations: dict[int | None, int] = {}
        self._memo: dict[str, tuple[bytes, Any]] = {}
        self.hits = self.misses = self.ignored_messages = 0
        # What a signal (bus.SIGNALS) wakes on this instance, by kind (the settings overlay).
        self.signals: dict[str, Callable[[], None]] = {}

    @classmethod
    def local(cls) -> Cache:
        """An in-process cache with no bus (a runtime built without `start`, and unit tests)."""
        return cls(MemoryBackend(64 * 1024 * 1024))

    def _entry(self, kind: str, connection: int | None, parts: Sequence[str | int | None]) -> str:
        where = "-" if connection is None else str(connection)
        return f"{self._prefix}{kind}:{where}:{codec.digest(self._key, *parts)}"

    def generation(self, connection: int | None) -> Generation:
        """Take before reading the database; `put` refuses if an invalidation came since."""
        with self._lock:
            return self._generations.get(None, 0), self._generations.get(connection, 0)

    def get(
        self,
        kind: str,
        connection: int | None,
        parts: Sequence[str | int | None],
        build: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The cached value (made by `build` when given), or None: a miss, expired, bad MAC.

        With `build`, the built object is kept beside the entry while its bytes stay the same,
        so a hit on a large catalog does not decode and build it again; such objects are shared
        by every reader and must be immutable (frozen dataclasses, tuples).
        """
        entry = self._entry(kind, connection, parts)
        blob = self.backend.get(entry)
        if blob is None:
            self.misses += 1
            return None
        with self._lock:
            memo = self._memo.get(entry)
        if build is not None and memo is not None and (memo[0] is blob or memo[0] == blob):
            self.hits += 1
            return memo[1]
        try:
            value = codec.decode(blob, self._key)
        except ValueError:
            self.misses += 1
            log.warning("cache: an entry failed its signature check and was ignored")
            return None
        self.hits += 1
        if build is not None:
            value = build(value)
            with self._lock:
                self._memo[entry] = (blob, value)
                while len(self._memo) > _MEMO_ENTRIES:
                    self._memo.pop(next(iter(self._memo)))
        return value

    def put(
        self,
        kind: str,
        connection: int | None,
        parts: Sequence[str | int | None],
        value: Any,
        *,
        generation: Generation,
        ttl_s: float | None = None,
        max_bytes: int | None = None,
    ) -> bool:
        """Cache `value`; False when it is too big, uncacheable, or invalidated meanwhile."""
        try:
            blob = codec.encode(value, self._key)
        except codec.Uncacheable:
            return False
        limit = min(self.max_entry_bytes, max_bytes or self.max_entry_bytes)
        if len(blob) > limit or self.generation(connection) != generation:
            return False
        ttl = min(self.ttl_s, ttl_s or self.ttl_s)
        return self.backend.set(self._entry(kind, connection, parts), blob, ttl)

    def invalidate(self, connection: int | None, kinds: Sequence[str] = KINDS) -> None:
        """Drop entries here and tell every other instance to drop them too."""
        message = bus_mod.Message(self.instance_id, connection, tuple(kinds))
        self._apply(message)
        if self.bus is not None:
            try:
                self.bus.publish(message.text())
            except PetcareError as exc:
                # The other instances fall back on their TTL; health shows the bus trouble.
                log.warning("cache: invalidation not published: %s", exc.message)

    def signal(self, kind: str) -> None:
        """Tell every other instance to look again at `kind` (a bus.SIGNALS entry)."""
        if self.bus is None:
            return
        try:
            self.bus.publish(bus_mod.Message(self.instance_id, None, (kind,)).text())
        except PetcareError as exc:
            # The other instances look again on their own schedule (settings_refresh_s).
            log.warning("cache: %s signal not published: %s", kind, exc.message)

    def receive(self, text: str) -> None:
        """A message from the bus (untrusted text: anything malformed is ignored)."""
        message = bus_mod.parse(text)
        if message is None:
            self.ignored_messages += 1
            return
        if message.sender == self.instance_id:  # our own was applied when sent
            return
        for kind in message.kinds:
            wake = self.signals.get(kind)
            if wake is not None:
                wake()
        entries = tuple(k for k in message.kinds if k in KINDS)
        if entries:
            self._apply(bus_mod.Message(message.sender, message.connection, entries))

    def reconnected(self) -> None:
        """The bus (re)connected: what it missed is unknown, so drop what only we hold."""
        with self._lock:
            self._generations[None] = self._generations.get(None, 0) + 1
            self._memo.clear()
        if isinstance(self.backend, MemoryBackend):
            self.backend.delete_prefix(self._prefix)

    def _apply(self, message: bus_mod.Message) -> None:
        with self._lock:
            self._generations[message.connection] = self._generations.get(message.connection, 0) + 1
            self._memo.clear()
        for kind in message.kinds:
            if message.connection is None:
                self.backend.delete_prefix(f"{self._prefix}{kind}:")
            else:
                self.backend.delete_prefix(f"{self._prefix}{kind}:{message.connection}:")
                # Entries filed under no connection (role verdicts) do not depend on one.

    def note_error(self, error: str) -> None:
        if self.degraded_reason is None:
            log.warning(
                "cache: the %s backend failed (%s); serving from the database",
                self.backend.name,
                error,
            )
        self.degraded_reason = f"{self.backend.name} failed: {error}"

    def health(self) -> Health:
        entries, size = self.backend.usage()
        bus = self.bus
        degraded = self.degraded_reason is not None or (bus is not None and not bus.connected)
        detail = self.degraded_reason or ""
        if bus is not None and not bus.connected:
            detail = (detail + "; " if detail else "") + (
                f"invalidation bus down ({bus.last_error or 'connecting'}): other instances' "
                f"DDL reaches this one only after cache_ttl_s"
            )
        return Health(
            self.configured,
            self.backend.name,
            degraded,
            detail or "ok",
            bus.name if bus is not None else "none",
            bus is not None and bus.connected,
            entries,
            size,
            self.hits,
            self.misses,
            self.ignored_messages,
        )

    def close(self) -> None:
        if self.bus is not None:
            self.bus.stop()
        self.backend.close()


def open_cache(settings: Settings, store: MetaStore, listen_url: str, secret: bytes) -> Cache:
    """The cache of a runtime: its backend, its bus listening, per the settings."""
    # Unset: the store prefix, so two deployments in one database never share a channel.
    namespace = settings.cache_namespace or settings.store_prefix
    if not _NAMESPACE.match(namespace):
        raise ConfigError(
            f"PETCARE_CACHE_NAMESPACE must be a lower-case letter then letters, digits or _ "
            f"(at most 57), not {namespace!r}"
        )
    cache = Cache(
        MemoryBackend(settings.cache_max_bytes),
        namespace=namespace,
        ttl_s=settings.cache_ttl_s,
        max_entry_bytes=settings.cache_max_entry_bytes,
        key=codec.mac_key(secret),
        configured=settings.cache_backend,
    )
    redis_conn = None
    if settings.cache_backend == "redis":
        try:
            redis_conn = redis_store.client(settings.redis_url)
        except PetcareError as exc:
            cache.degraded_reason = (
                f"redis configured but unavailable ({exc.message}); using the in-process cache"
            )
            log.warning("cache: %s", cache.degraded_reason)
        else:
            cache.backend = redis_store.RedisBackend(redis_conn, cache.note_error)
    if redis_conn is not None:
        cache.bus = redis_store.RedisBus(
            redis_conn, f"{namespace}:cache:bus", cache.receive, cache.reconnected
        )
    else:
        cache.bus = bus_mod.PgBus(
            store,
            listen_url,
            f"{namespace}_cache",
            cache.receive,
            cache.reconnected,
            connect_timeout=settings.connect_timeout_s,
        )
    cache.bus.start(wait_s=float(settings.connect_timeout_s))
    return cache
