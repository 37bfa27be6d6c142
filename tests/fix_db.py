"""Database fixtures: one real PostgreSQL per test session, a migrated template, a clone per test.

The server is the one named by PETCARE_TEST_DATABASE_URL (CI also runs the suite against the
machine's PostgreSQL 15 this way) or an embedded PostgreSQL 18 started in a temporary directory.
Migrations run once into a template database; each test that needs the metadata store gets
`CREATE DATABASE ... TEMPLATE` (fast, fully isolated). With PETCARE_REQUIRE_DB=1 (CI) a server that
cannot be reached fails the run instead of skipping.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.db.embedded import EmbeddedServer, port_is_free
from petcare_dba.services import crypto
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

RUNTIME_PASSWORD = "test-runtime-password-0123"
ADMIN_PASSWORD = "Xq7-tulip-harbor-91"
USER_PASSWORD = "Zr4-maple-lantern-27"


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@dataclass
class PgServer:
    """A reachable PostgreSQL server for tests (superuser URL)."""

    url: str
    embedded: EmbeddedServer | None
    major: int

    def admin_url(self, dbname: str = "postgres") -> str:
        return with_db(self.url, dbname)

    def create_database(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _start_embedded(data_dir: Path) -> EmbeddedServer:
    """Start an embedded server on a random free port (retrying: parallel runs race for ports)."""
    import random

    last: Exception | None = None
    for port in random.sample(range(55400, 56400), 8):
        if not port_is_free(port):
            continue
        server = EmbeddedServer(data_dir, port)
        try:
            server.start()
            return server
        except Exception as exc:
            last = exc
    raise RuntimeError(f"no port worked: {last}")


def _unavailable(reason: str) -> None:
    if os.environ.get("PETCARE_REQUIRE_DB") == "1":
        pytest.fail(f"PostgreSQL is required (PETCARE_REQUIRE_DB=1) but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """The session's PostgreSQL server."""
    url = os.environ.get("PETCARE_TEST_DATABASE_URL")
    embedded = None
    data_dir = None
    if not url:
        data_dir = Path(tempfile.mkdtemp(prefix="petcare-test-pg-"))
        try:
            embedded = _start_embedded(data_dir)
        except Exception as exc:
            shutil.rmtree(data_dir, ignore_errors=True)
            _unavailable(f"the embedded server did not start: {exc}")
        url = embedded.url()
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    except psycopg.Error as exc:
        _unavailable(f"cannot connect: {exc}")
    yield PgServer(url, embedded, major)
    if embedded is not None:
        embedded.destroy()


@pytest.fixture(scope="session")
def template_db(pg: PgServer) -> Iterator[str]:
    """A database migrated once, used as the template of every metadata-store test."""
    name = pg.create_database()
    migrations.migrate(pg.admin_url(name), RUNTIME_PASSWORD)
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(name)))
    pg.drop_database(name)


class Clones:
    """Clones of the template made one ahead, by a background thread.

    CREATE DATABASE ... TEMPLATE takes 0.1-0.4 s here (the store has ~850 relations) and most
    tests need one: the thread makes the next clone while a test runs, on a core the test
    leaves idle (the PostgreSQL 15 pass runs on one worker), so a test takes one ready.
    """

    def __init__(self, pg: PgServer, template: str) -> None:
        self.pg = pg
        self.template = template
        self.ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=1)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._fill, name="clones", daemon=True)
        self.thread.start()

    def _fill(self) -> None:
        while not self.stopped.is_set():
            made: str | BaseException
            try:
                made = self.pg.create_database(template=self.template)
            except Exception as exc:  # handed to the test that takes it
                made = exc
            while not self.stopped.is_set():
                try:
                    self.ready.put(made, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                if isinstance(made, str):
                    self.pg.drop_database(made)

    def take(self) -> str:
        made = self.ready.get(timeout=120)
        if isinstance(made, BaseException):
            raise made
        return made

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=60)
        while not self.ready.empty():
            made = self.ready.get_nowait()
            if isinstance(made, str):
                self.pg.drop_database(made)


@pytest.fixture(scope="session")
def clones(pg: PgServer, template_db: str) -> Iterator[Clones]:
    """The session's supply of fresh, migrated metadata databases."""
    supply = Clones(pg, template_db)
    yield supply
    supply.close()


@pytest.fixture
def meta_url(pg: PgServer, clones: Clones) -> Iterator[str]:
    """Admin URL of a fresh, migrated metadata database for this test."""
    name = clones.take()
    yield pg.admin_url(name)
    pg.drop_database(name)


@pytest.fixture
def test_settings(meta_url: str, tmp_path: Path) -> settings_mod.Settings:
    """Settings pointing at this test's metadata database."""
    return settings_mod.load(
        env={
            "PETCARE_DATABASE_URL": meta_url,
            "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
            "PETCARE_SECRET_KEY": crypto.generate_key(),
            "PETCARE_DATA_DIR": str(tmp_path),
            "PETCARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PETCARE_POOL_MAX_SIZE": "4",
            # Local receivers stand in for webhook and SMTP servers; the default-deny policy is
            # tested with this cleared (tests/security/test_outbound_delivery.py).
            "PETCARE_OUTBOUND_ALLOW": "127.0.0.1",
            # OWASP's argon2id floor rather than the default's 10x the work: thousands of sign-ins
            # and new users per run. The default cost has its own tests
            # (tests/security/test_password_cost.py).
            "PETCARE_PASSWORD_HASH_MEMORY_KIB": "19456",
            "PETCARE_PASSWORD_HASH_TIME_COST": "2",
            "PETCARE_PASSWORD_HASH_PARALLELISM": "1",
        }
    )


@pytest.fixture
def rt(test_settings: settings_mod.Settings) -> Iterator[Runtime]:
    """An open runtime on this test's metadata database."""
    runtime = Runtime.start(test_settings)
    yield runtime
    runtime.close()


@pytest.fixture
def admin(rt: Runtime) -> Actor:
    """The first admin of this test's store."""
    users.ensure_first_admin(rt)
    return users.actor_for(rt, None)


@pytest.fixture
def make_user(rt: Runtime, admin: Actor):  # type: ignore[no-untyped-def]
    """Factory: make_user('vera', 'viewer') -> Actor."""

    def make(name: str, role: str) -> Actor:
        users.add_user(rt, admin, name, role, USER_PASSWORD)
        return users.actor_for(rt, name)

    return make


def process_env(settings: settings_mod.Settings) -> dict[str, str]:
    """The environment of a child process that must load the same settings (kill -9 tests)."""
    return {
        **os.environ,
        **{
            "PETCARE_" + n.upper(): str(settings.values[n])
            for n, source in settings.sources.items()
            if source == "env"
        },
    }
