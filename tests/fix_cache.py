"""Fixtures of the cache tests: a second instance on the same metadata store, Redis, waiting.

`second` starts another `Runtime` on the test's store (two instances behind a load balancer
share exactly this: the store and the secret key). `redis_settings` points both at the machine's
Redis (127.0.0.1:6379) under a namespace of their own, so parallel runs never see each other's
keys. `wait_until` polls a condition (no fixed sleeps) and returns the seconds it took.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.services.runtime import Runtime

REDIS_URL = os.environ.get("PETCARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> float:
    """Seconds until `condition()` is true; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {what or condition}")
        time.sleep(0.01)
    return time.monotonic() - started


def redis_available() -> None:
    """Fail (PETCARE_REQUIRE_DB=1) or skip when the machine's Redis does not answer."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("PETCARE_REQUIRE_DB") == "1":
            pytest.fail(f"Redis is required (PETCARE_REQUIRE_DB=1) but {exc}", pytrace=False)
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")


def namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def redis_settings(test_settings: settings_mod.Settings) -> settings_mod.Settings:
    redis_available()
    return test_settings.with_overrides(
        cache_backend="redis", redis_url=REDIS_URL, cache_namespace=namespace()
    )


@pytest.fixture
def start_instance() -> Iterator[Callable[[settings_mod.Settings], Runtime]]:
    """Start runtimes (instances) on demand; every one is closed at the end."""
    started: list[Runtime] = []

    def start(settings: settings_mod.Settings) -> Runtime:
        runtime = Runtime.start(settings)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.close()


@pytest.fixture
def second(rt: Runtime, start_instance: Callable[[settings_mod.Settings], Runtime]) -> Runtime:
    """Instance B on instance A's (`rt`) metadata store."""
    return start_instance(rt.settings)
