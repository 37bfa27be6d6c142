"""The Redis backend and the Redis pub/sub bus (`redis` package, the `[redis]` extra).

Entries are `SET key blob PX ttl` under the deployment's namespace, so Redis's own expiry and
eviction bound them; dropping a connection's entries is a SCAN over its key prefix with UNLINK.
A Redis that stops answering is a cache miss and a skipped write (the caller reads the database
instead) and shows as degraded in health; it never fails a user's request. The bus subscribes
on a thread of its own and reconnects after a Redis restart, reporting every reconnect so the
cache can drop what it might have missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from petcare_dba.errors import ConfigError, Unavailable

try:  # an optional extra: only a deployment that sets cache_backend=redis needs it
    import redis
except ImportError:  # pragma: no cover - the extra is installed in CI
    redis = None  # type: ignore[assignment]

_TIMEOUT_S = 2.0


def client(url: str) -> Any:
    """A Redis client that fails fast; ConfigError without the package, Unavailable when down."""
    if redis is None:
        raise ConfigError(
            "cache_backend=redis needs the redis package",
            hint="pip install 'petcare-dba[redis]'",
        )
    conn = redis.Redis.from_url(
        url, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S, health_check_interval=30
    )
    try:
        conn.ping()
    except redis.RedisError as exc:
        conn.close()
        raise Unavailable(f"cannot reach Redis: {type(exc).__name__}") from None
    return conn


class RedisBackend:
    """Signed entries in Redis, shared by every instance of the deployment."""

    name = "redis"

    def __init__(self, conn: Any, on_error: Callable[[str], None]) -> None:
        self._conn = conn
        self._on_error = on_error

    def get(self, key: str) -> bytes | None:
        try:
            value = self._conn.get(key)
        except redis.RedisError as exc:
            self._on_error(type(exc).__name__)
            return None
        return None if value is None else bytes(value)

    def set(self, key: str, blob: bytes, ttl_s: float) -> bool:
        try:
            self._conn.set(key, blob, px=max(1, int(ttl_s * 1000)))
        except redis.RedisError as exc:
            self._on_error(type(exc).__name__)
            return False
        return True

    def delete_prefix(self, prefix: str) -> int:
        # Key prefixes are built from fixed words and integers: no glob characters to escape.
        done = 0
        try:
            batch: list[bytes] = []
            for key in self._conn.scan_iter(match=prefix + "*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    done += self._conn.unlink(*batch)
                    batch.clear()
            if batch:
                done += self._conn.unlink(*batch)
        except redis.RedisError as exc:
            self._on_error(type(exc).__name__)
        return done

    def ping(self) -> None:
        self._conn.ping()

    def usage(self) -> tuple[int, int]:
        return -1, -1  # Redis keeps its own counts (INFO memory); not ours to scan

    def close(self) -> None:
        self._conn.close()


class RedisBus:
    """Publish and receive invalidation messages on a Redis channel."""

    def __init__(
        self,
        conn: Any,
        channel: str,
        on_message: Callable[[str], None],
        on_connect: Callable[[], None],
    ) -> None:
        self._conn = conn
        self.channel = channel
        self.on_message = on_message
        self.on_connect = on_connect
        self._connected = threading.Event()
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"redis-{channel}", daemon=True)

    name = "redis pub/sub"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self, wait_s: float = 10.0) -> bool:
        self._thread.start()
        return self._connected.wait(wait_s)

    def publish(self, payload: str) -> None:
        try:
            self._conn.publish(self.channel, payload)
        except redis.RedisError as exc:
            self.last_error = type(exc).__name__

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_TIMEOUT_S * 3)

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = self._conn.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.last_error = None
                self.on_connect()
                self._connected.set()
                backoff = 0.1
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        data = message["data"]
                        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
                        self._call(text)
            except redis.RedisError as exc:
                self.last_error = type(exc).__name__
            finally:
                self._connected.clear()
                try:
                    pubsub.close()
                except redis.RedisError:
                    pass
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _call(self, text: str) -> None:
        try:
            self.on_message(text)
        except Exception as exc:
            self.last_error = f"callback failed: {type(exc).__name__}"
