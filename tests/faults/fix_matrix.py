"""Fixtures of the fault matrix: an app whose two links both pass through a `FaultProxy`.

`world(home=...)` builds one cell's app: a runtime whose metadata store (a fresh clone of the
migrated template) is reached through one proxy, and a target database (table `t`, connection
`tgt`) reached through another, both owned by the test. The `restart` cells need a database
they may restart, so `home="meta"` or `home="target"` puts that side on a dedicated embedded
cluster this module starts and stops itself (never the session's server); the other side stays
on the session's server. Timeouts are lowered so a faulted action ends in seconds.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.services import connections, crypto
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users
from petcare_dba.services.sql import engine
from tests.fix_db import ADMIN_PASSWORD, RUNTIME_PASSWORD, PgServer, _start_embedded
from tests.fix_engine import SEED, Target
from tests.fix_faults import FaultProxy

# Short enough that a faulted action ends within seconds, long enough for a 2-core machine.
POOL_TIMEOUT_S = 2
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 5000


def proxied(proxy: FaultProxy, url: str) -> str:
    """`url` with its host and port swapped for the proxy's."""
    parts = urlsplit(url)
    auth = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    netloc = f"{auth[0]}@{host}" if len(auth) == 2 else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _upstream(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


@dataclass
class Cluster:
    """The dedicated cluster of the restart cells, with a migrated template of the store."""

    server: PgServer
    template: str

    def restart_stop(self) -> None:
        assert self.server.embedded is not None
        self.server.embedded.stop("fast")

    def restart_start(self) -> None:
        assert self.server.embedded is not None
        self.server.embedded.start()
        self.server.embedded.wait_ready()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """An embedded cluster of our own: the only server the matrix ever restarts."""
    data_dir = Path(tempfile.mkdtemp(prefix="petcare-faults-pg-"))
    embedded = _start_embedded(data_dir)
    try:
        server = PgServer(embedded.url(), embedded, 0)
        template = server.create_database()
        migrations.migrate(server.admin_url(template), RUNTIME_PASSWORD)
        yield Cluster(server, template)
    finally:
        embedded.destroy()
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class World:
    """One cell's app and what the test sees of it from outside."""

    rt: Runtime
    admin: Actor
    meta: FaultProxy
    target_proxy: FaultProxy
    target: Target
    meta_url: str  # the store as its superuser sees it, not through the proxy
    meta_server: PgServer
    target_server: PgServer

    def link(self, name: str) -> FaultProxy:
        return self.meta if name == "meta" else self.target_proxy

    def server(self, name: str) -> PgServer:
        return self.meta_server if name == "meta" else self.target_server

    def dbname(self, name: str) -> str:
        url = self.meta_url if name == "meta" else self.target.url
        return urlsplit(url).path.lstrip("/")


def _settings(store_url: str, data_dir: Path) -> settings_mod.Settings:
    return settings_mod.load(
        env={
            "PETCARE_DATABASE_URL": store_url,
            "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
            "PETCARE_SECRET_KEY": crypto.generate_key(),
            "PETCARE_DATA_DIR": str(data_dir),
            "PETCARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PETCARE_POOL_MAX_SIZE": "4",
            "PETCARE_POOL_TIMEOUT_S": str(POOL_TIMEOUT_S),
            "PETCARE_CONNECT_TIMEOUT_S": str(CONNECT_TIMEOUT_S),
            "PETCARE_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
        }
    )


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    pg: PgServer,
    template_db: str,
    tmp_path: Path,
) -> Iterator[Callable[..., World]]:
    """Factory: world(home=None|'meta'|'target') -> a running World, torn down after the test."""
    cleanups: list[Callable[[], None]] = []

    def make(home: str | None = None) -> World:
        dedicated: Cluster | None = request.getfixturevalue("cluster") if home else None
        meta_server = dedicated.server if dedicated and home == "meta" else pg
        target_server = dedicated.server if dedicated and home == "target" else pg
        meta_template = dedicated.template if dedicated and home == "meta" else template_db
        meta_db = meta_server.create_database(template=meta_template)
        cleanups.append(lambda: meta_server.drop_database(meta_db))
        meta_url = meta_server.admin_url(meta_db)
        meta = FaultProxy(*_upstream(meta_url))
        cleanups.append(meta.close)
        rt = Runtime.start(_settings(proxied(meta, meta_url), tmp_path))
        cleanups.append(rt.close)
        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        target_db = target_server.create_database()
        cleanups.append(lambda: target_server.drop_database(target_db))
        target_url = target_server.admin_url(target_db)
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
            conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", SEED)
        target_proxy = FaultProxy(*_upstream(target_url))
        cleanups.append(target_proxy.close)
        connections.add(rt, admin, "tgt", proxied(target_proxy, target_url), shared=True)
        cleanups.append(lambda: engine.close(rt))
        return World(
            rt,
            admin,
            meta,
            target_proxy,
            Target("tgt", target_db, target_url),
            meta_url,
            meta_server,
            target_server,
        )

    yield make
    for cleanup in reversed(cleanups):
        try:
            cleanup()
        except Exception:  # noqa: S110 - teardown goes on; the test already reported
            pass


def unpaired_intents(w: World) -> list[str]:
    """Actions of the audit intents that have neither an outcome nor 'unknown' (A2), once the
    reconcile job ran over every intent."""
    audit.reconcile(w.rt.store, w.admin, 0)
    with psycopg.connect(w.meta_url) as conn:
        rows = conn.execute(
            "SELECT action FROM petcare.audit_log i WHERE i.outcome = 'intent' AND NOT EXISTS "
            "(SELECT 1 FROM petcare.audit_log o WHERE o.event_id = i.event_id "
            "AND o.outcome <> 'intent')"
        ).fetchall()
    return [r[0] for r in rows]
