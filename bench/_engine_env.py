"""Shared setup of the engine benchmarks: a server, a metadata store, a target, an admin.

`environment()` uses PETCARE_BENCH_DATABASE_URL (a superuser URL) when set, else starts an
embedded PostgreSQL in a fresh directory under /tmp (mode 0711: when run as root the server's
system user must traverse it). It creates a migrated metadata database and an empty target
database, starts a `Runtime` on the store, creates the first admin and registers the target as
connection `bench`; everything is dropped afterwards. `timed()` reports wall time in ms.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.db.embedded import EmbeddedServer, port_is_free
from petcare_dba.services import connections, crypto
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from petcare_dba.services.sql import engine
from tests.fix_faults import FaultProxy

CONNECTION = "bench"


@dataclass
class Env:
    rt: Runtime
    admin: Actor
    target_url: str
    server_url: str
    embedded: bool


def _with_db(url: str, dbname: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment))


def _start_embedded(root: Path) -> EmbeddedServer:
    last: Exception | None = None
    for port in random.sample(range(56500, 57500), 8):
        if port_is_free(port):
            server = EmbeddedServer(root, port)
            try:
                server.start()
                return server
            except Exception as exc:  # a racing process took the port
                last = exc
    raise RuntimeError(f"could not start an embedded server: {last}")


@contextmanager
def environment() -> Iterator[Env]:
    """A metadata store and a target database on one server, cleaned up afterwards."""
    url = os.environ.get("PETCARE_BENCH_DATABASE_URL")
    server = None
    root = None
    if not url:
        root = Path(tempfile.mkdtemp(prefix="petcare-bench-", dir="/tmp"))
        root.chmod(0o711)
        server = _start_embedded(root / "pg")
        url = server.url()
    names = [f"bench_meta_{uuid.uuid4().hex[:8]}", f"bench_tgt_{uuid.uuid4().hex[:8]}"]
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    meta_url, target_url = (_with_db(url, n) for n in names)
    password = secrets.token_urlsafe(18)
    rt = None
    try:
        migrations.migrate(meta_url, password)
        settings = settings_mod.load(
            env={
                "PETCARE_DATABASE_URL": meta_url,
                "PETCARE_RUNTIME_PASSWORD": password,
                "PETCARE_SECRET_KEY": crypto.generate_key(),
                "PETCARE_DATA_DIR": tempfile.mkdtemp(prefix="petcare-bench-data-"),
                "PETCARE_ADMIN_PASSWORD": "Bench-" + secrets.token_urlsafe(12),
                "PETCARE_STATEMENT_TIMEOUT_MS": "600000",
            }
        )
        rt = Runtime.start(settings)
        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        connections.add(rt, admin, CONNECTION, target_url, shared=True)
        yield Env(rt, admin, target_url, url, server is not None)
    finally:
        if rt is not None:
            engine.close(rt)
            rt.close()
        with psycopg.connect(url, autocommit=True) as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        if server is not None:
            server.destroy()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def proxied(url: str, latency_ms: tuple[float, float]) -> tuple[FaultProxy, str]:
    """A delaying, counting proxy in front of the server of `url`, and `url` pointed at it."""
    parts = urlsplit(url)
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=latency_ms)
    auth = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    netloc = f"{auth[0]}@{host}" if len(auth) == 2 else host
    return proxy, urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (from /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "?",
            )
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model}
