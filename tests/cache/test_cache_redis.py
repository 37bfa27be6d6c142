"""The Redis backend when Redis is missing, dies, or holds entries someone else wrote.

Decision (issue 18): a Redis that cannot be reached at start-up is not a failed start; the
instance uses the in-process cache, logs a warning and its health check says "degraded" with the
reason, and invalidation goes over LISTEN/NOTIFY. A Redis that dies later is a cache miss (the
database is read instead), never a failed request. The dying Redis is a real redis-server process
this test starts on a free port and kills, so the machine's shared Redis is never touched.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator

import pytest
import redis

from petcare_dba import settings as settings_mod
from petcare_dba.services import connections, explorer, monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_cache import REDIS_URL, namespace, redis_settings, start_instance, wait_until
from tests.fix_engine import Target, target

__all__ = ["redis_settings", "start_instance", "target"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test only (killed by the test or at the end)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def up() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    wait_until(up, 10.0, "own redis-server up")
    yield url, proc
    proc.kill()
    proc.wait()


def test_unreachable_redis_falls_back_to_memory_with_a_warning_and_degraded_health(
    test_settings: settings_mod.Settings,
    start_instance: Callable[[settings_mod.Settings], Runtime],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = test_settings.with_overrides(
        cache_backend="redis",
        redis_url=f"redis://:s3cret-pass@127.0.0.1:{_free_port()}/0",
        cache_namespace=namespace(),
    )
    with caplog.at_level(logging.WARNING, logger="petcare_dba.services.cache.layer"):
        rt = start_instance(settings)
    health = rt.cache.health()
    assert (health.configured, health.backend, health.degraded) == ("redis", "memory", True)
    assert "redis configured but unavailable" in health.detail
    assert health.bus == "postgres listen/notify" and health.bus_connected
    assert "redis configured but unavailable" in caplog.text
    assert "s3cret-pass" not in caplog.text + health.detail  # the URL is a secret
    report = monitoring.health.check(rt, None)
    component = next(c for c in report.components if c.name == "app_cache")
    assert not component.ok and "degraded" in component.detail and not component.required
    assert report.healthy  # a degraded cache slows the app down; it does not stop it
    # It still caches, in memory.
    rt.cache.put("catalog", 1, ("x",), [1], generation=rt.cache.generation(1))
    assert rt.cache.get("catalog", 1, ("x",)) == [1]


def test_redis_dying_mid_run_is_a_miss_and_a_degraded_health_not_an_error(
    test_settings: settings_mod.Settings,
    start_instance: Callable[[settings_mod.Settings], Runtime],
    own_redis: tuple[str, subprocess.Popen[bytes]],
    admin: Actor,
    target: Target,
) -> None:
    url, proc = own_redis
    rt = start_instance(
        test_settings.with_overrides(
            cache_backend="redis", redis_url=url, cache_namespace=namespace()
        )
    )
    explorer.discover(rt, admin, target.name)
    assert rt.cache.health().backend == "redis" and not rt.cache.health().degraded
    proc.kill()
    proc.wait()
    catalog = explorer.discover(rt, admin, target.name, refresh=True)  # reads the database
    assert catalog.get("public", "t") is not None
    assert explorer.discover(rt, admin, target.name).get("public", "t") is not None
    health = rt.cache.health()
    assert health.degraded and "redis failed" in health.detail


def test_an_entry_written_into_redis_by_someone_else_is_never_served(
    redis_settings: settings_mod.Settings,
    start_instance: Callable[[settings_mod.Settings], Runtime],
    admin: Actor,
    target: Target,
) -> None:
    rt = start_instance(redis_settings)
    conn_id = connections.get(rt, admin, target.name).id
    explorer.discover(rt, admin, target.name)
    raw = redis.Redis.from_url(REDIS_URL)
    keys = list(raw.scan_iter(match=f"{redis_settings.cache_namespace}:cache:catalog:{conn_id}:*"))
    assert len(keys) == 1
    # A forged catalog that hides table t (valid JSON, wrong signature).
    raw.set(keys[0], b"\x01" + b"0" * 32 + b'{"rows":{},"read_at":0}', px=60_000)
    assert explorer.discover(rt, admin, target.name).get("public", "t") is not None
    raw.delete(*keys)
