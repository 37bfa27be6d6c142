"""Fixtures of the SQL engine tests: a target database registered as connection `tgt`.

Imported by the engine test modules (`from tests.fix_engine import target`), so
the fixture stays next to the tests that use it instead of in the shared conftest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from petcare_dba.services import connections, deferred
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer
from tests.security.c_privilege_fixtures import drop_login_role, read_role

SEED = [(1, "one"), (2, "two"), (3, "three")]


@dataclass
class Target:
    """A target database as its superuser sees it (to check what the engine did)."""

    name: str
    dbname: str
    url: str

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def execute(self, statement: str, params: Any = None) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(statement, params)

    def table(self) -> list[tuple[Any, ...]]:
        return self.rows("SELECT id, note FROM t ORDER BY id")

    def activity(self, app_name: str) -> list[tuple[Any, ...]]:
        return self.rows(
            "SELECT pid, state, query FROM pg_stat_activity "
            "WHERE application_name = %s ORDER BY pid",
            (app_name,),
        )


@pytest.fixture
def target(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[Target]:
    """A fresh database with table t (3 rows), shared with every user as connection `tgt`."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", SEED)
    # Viewers and the assistant run only as a least-privilege role (issue 12, Q3).
    read_url = read_role(url)
    connections.add(rt, admin, "tgt", url, shared=True, read_url=read_url)
    yield Target("tgt", dbname, url)
    engine.close(rt)
    pg.drop_database(dbname)
    drop_login_role(pg.admin_url(), read_url)


def tune(rt: Runtime, **values: Any) -> None:
    """Override settings of this test's runtime (engine limits, pool sizes)."""
    rt.settings = rt.settings.with_overrides(**values)


def events(rt: Runtime, actor: Actor) -> list[audit.AuditEntry]:
    """The actor's sql.execute audit rows, oldest first (outcomes still queued land first)."""
    assert rt.deferred.settle(), "queued audit outcomes were not written in time"
    return list(reversed(audit.recent(rt.store, actor, action="sql.execute")))


def runs(meta_url: str) -> list[dict[str, Any]]:
    """Every execucoes_scripts row, oldest first (read as the store's superuser).

    The outcomes this process still has queued are written first (`deferred.settle_all`).
    """
    assert deferred.settle_all(), "queued audit outcomes were not written in time"
    with psycopg.connect(meta_url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute("SELECT * FROM petcare.execucoes_scripts ORDER BY id").fetchall()


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until `check()` is true (a query shows up in pg_stat_activity, ...)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
