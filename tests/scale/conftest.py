"""What the scale and soak tests need: the machine's PostgreSQL 15, Redis, HAProxy and pgbench.

`scale_server` is the superuser URL of that PostgreSQL (PETCARE_SCALE_DATABASE_URL); a missing
part skips the test, or fails it in CI (PETCARE_REQUIRE_DB=1).
"""

from __future__ import annotations

import os
import shutil

import psycopg
import pytest

from bench import _topology


def _missing(reason: str) -> None:
    if os.environ.get("PETCARE_REQUIRE_DB") == "1":
        pytest.fail(f"the scale test is required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def scale_server() -> str:
    """The server to build bench/_topology.py's system on, once every part was found."""
    server = os.environ.get("PETCARE_SCALE_DATABASE_URL", _topology.DEFAULT_URL)
    for tool in (_topology.HAPROXY, "pgbench"):
        if not shutil.which(tool):
            _missing(f"{tool} is not installed")
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except psycopg.Error as exc:
        _missing(f"no PostgreSQL at {server}: {exc}")
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _missing(f"no Redis at 127.0.0.1:6379: {exc}")
    return server
