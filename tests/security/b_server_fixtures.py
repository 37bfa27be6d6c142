"""Fixtures of the red-team entry-point matrix (b-server): one store, four hostile targets.

Module-scoped so that the whole matrix shares one metadata store and four target databases:

- `scs_db`: a database whose default is `standard_conforming_strings = off`;
- `scs_role`: a login role with `standard_conforming_strings = off` and `client_encoding = SJIS`
  set at role level (`ALTER ROLE ... SET`);
- `demo`: a demo-like database and role (owner of its tables, member of pg_signal_backend);
- `superuser`: a connection registered with a superuser URL (issue 12's second target).

Every target also carries a least-privilege read credential (LOGIN, CONNECT and SELECT on `t`,
with the same hostile role-level settings), as `up` gives the demo (`petcare_demo_ro`): viewers,
read-only runs and the assistant go through it, so the lexing pins are exercised on the read path
too, where a smuggled `pg_advisory_lock` or `pg_terminate_backend` of the role's own sentinel
would still show.

The first two roles may read server files, run server programs and signal backends, so that a
hidden `pg_ls_dir`, `COPY ... TO PROGRAM` or `pg_terminate_backend` would visibly work if the
boundary let it through. Each target has table `t` (checksummed), a sentinel backend (which a
hidden pg_terminate_backend would kill) and a path that `COPY ... TO PROGRAM 'touch'` would create.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from petcare_dba import settings as settings_mod
from petcare_dba.services import connections, crypto, deferred
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from petcare_dba.services.sql import engine
from tests.fix_db import ADMIN_PASSWORD, RUNTIME_PASSWORD, USER_PASSWORD, PgServer, with_db

ROLE_PASSWORD = "Rt-9-redteam-lantern"
SEED = [(i, f"row {i}") for i in range(1, 6)]
POWERS = ("pg_read_server_files", "pg_execute_server_program", "pg_signal_backend")


@dataclass
class HostileTarget:
    """One registered target and what the tests check on it (as the superuser sees it)."""

    name: str
    dbname: str
    admin_url: str
    role: str
    touch: str
    sentinel_app: str
    sentinel: psycopg.Connection[Any] | None = field(default=None, repr=False)

    checker: psycopg.Connection[Any] | None = field(default=None, repr=False)

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        # One long-lived superuser connection for the checks (a connect per check is slow).
        if self.checker is None or self.checker.closed:
            self.checker = psycopg.connect(self.admin_url, autocommit=True)
        return self.checker.execute(query, params).fetchall()

    def checksum(self) -> str:
        return self.state()[0]

    def state(self) -> tuple[str, int, bool]:
        """(checksum of t, advisory locks held on the database, sentinel alive) in one query."""
        row = self.rows(
            "SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(id || '=' || note, ',' "
            "ORDER BY id)), '') FROM t), "
            "(SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            " WHERE l.locktype = 'advisory' AND d.datname = %s), "
            "(SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = %s)",
            (self.dbname, self.sentinel_app),
        )[0]
        return str(row[0]), int(row[1]), bool(row[2])

    def sentinel_alive(self) -> bool:
        return self.state()[2]

    def reset_sentinel(self) -> None:
        if self.sentinel is not None:
            self.sentinel.close()
        self.sentinel = psycopg.connect(
            self.admin_url, autocommit=True, application_name=self.sentinel_app
        )


@dataclass
class Matrix:
    """The shared store, its actors and the three hostile targets."""

    rt: Runtime
    meta_url: str
    admin: Actor
    viewer: Actor
    dba: Actor
    targets: dict[str, HostileTarget]
    settings: settings_mod.Settings
    project_id: int = 0

    meta: psycopg.Connection[Any] | None = field(default=None, repr=False)

    def _meta(self) -> psycopg.Connection[Any]:
        if self.meta is None or self.meta.closed:
            self.meta = psycopg.connect(self.meta_url, autocommit=True)
        return self.meta

    def audit_mark(self) -> int:
        row = self._meta().execute("SELECT coalesce(max(id), 0) FROM petcare.audit_log").fetchone()
        return int(row[0]) if row else 0

    def audit_since(self, mark: int) -> list[dict[str, Any]]:
        # Outcomes are written after the response: the ones still queued land first.
        assert deferred.settle_all(), "queued audit outcomes were not written in time"
        cur = self._meta().cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(
            "SELECT id, username, action, outcome, event_id, sql_text, classification, "
            "detail FROM petcare.audit_log WHERE id > %s ORDER BY id",
            (mark,),
        ).fetchall()


def _make_role(pg: PgServer, role: str, powers: tuple[str, ...], settings: dict[str, str]) -> None:
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(ROLE_PASSWORD)
            )
        )
        for power in powers:
            if power == "SUPERUSER":
                conn.execute(sql.SQL("ALTER ROLE {} SUPERUSER").format(sql.Identifier(role)))
                continue
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(power), sql.Identifier(role))
            )
        for name, value in settings.items():
            conn.execute(
                sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    sql.Identifier(role), sql.Identifier(name), sql.Literal(value)
                )
            )


def _make_target(
    pg: PgServer,
    key: str,
    tag: str,
    role: str,
    db_settings: dict[str, str],
    grant_files: bool,
) -> HostileTarget:
    dbname = pg.create_database()
    admin_url = pg.admin_url(dbname)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", SEED)
        conn.execute("RESET ROLE")
        if grant_files:
            # pg_read_server_files lets a role read any file, but these functions still need
            # EXECUTE: granted so that a smuggled call would visibly work.
            for fn in ("pg_read_file(text)", "pg_ls_dir(text)"):
                conn.execute(
                    sql.SQL("GRANT EXECUTE ON FUNCTION pg_catalog.{} TO {}").format(
                        sql.SQL(fn), sql.Identifier(role)
                    )
                )
        for name, value in db_settings.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(dbname), sql.Identifier(name), sql.Literal(value)
                )
            )
    target = HostileTarget(
        key,
        dbname,
        admin_url,
        role,
        f"/tmp/petcare-redteam-{tag}-{key}",
        f"redteam-sentinel-{tag}-{key}",
    )
    target.reset_sentinel()
    return target


def role_url(pg: PgServer, target: HostileTarget, role: str | None = None) -> str:
    """The target's URL with its login role (or `role`) and password instead of the superuser."""
    base = psycopg.conninfo.conninfo_to_dict(with_db(pg.url, target.dbname))
    base.update(user=role or target.role, password=ROLE_PASSWORD)
    return psycopg.conninfo.make_conninfo(**base)


def _make_read_role(
    pg: PgServer, target: HostileTarget, role: str, settings: dict[str, str]
) -> None:
    """A least-privilege read role on the target, with the same hostile role-level settings."""
    _make_role(pg, role, (), settings)
    with psycopg.connect(target.admin_url, autocommit=True) as conn:
        ident = sql.Identifier(role)
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(target.dbname), ident
            )
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT ON t TO {}").format(ident))


@pytest.fixture(scope="module")
def matrix(
    pg: PgServer, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    """A store with admin, viewer and dba users and three hostile targets registered."""
    tag = uuid.uuid4().hex[:8]
    meta_db = pg.create_database(template=template_db)
    meta_url = pg.admin_url(meta_db)
    data_dir: Path = tmp_path_factory.mktemp("redteam")
    settings = settings_mod.load(
        env={
            "PETCARE_DATABASE_URL": meta_url,
            "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
            "PETCARE_SECRET_KEY": crypto.generate_key(),
            "PETCARE_DATA_DIR": str(data_dir),
            "PETCARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PETCARE_POOL_MAX_SIZE": "4",
            # Every refusal must be stored whole here to be counted once; the flood limit that
            # would otherwise count them after 30 a minute is tested in test_audit_flood.py.
            "PETCARE_AUDIT_REFUSALS_PER_MINUTE": "1000000",
        }
    )
    rt = Runtime.start(settings)
    users.ensure_first_admin(rt)
    admin = users.actor_for(rt, None)
    users.add_user(rt, admin, "vera", "viewer", USER_PASSWORD)
    users.add_user(rt, admin, "dora", "dba", USER_PASSWORD)
    specs = {
        "scs_db": ({}, {"standard_conforming_strings": "off"}, POWERS),
        "scs_role": (
            {"standard_conforming_strings": "off", "client_encoding": "SJIS"},
            {},
            POWERS,
        ),
        "demo": ({}, {}, ("pg_signal_backend", "pg_monitor")),
        "superuser": ({}, {}, ("SUPERUSER",)),
    }
    targets: dict[str, HostileTarget] = {}
    roles: list[str] = []
    try:
        for key, (role_settings, db_settings, powers) in specs.items():
            role = f"rt_{key}_{tag}"
            _make_role(pg, role, powers, role_settings)
            roles.append(role)
            target = _make_target(pg, key, tag, role, db_settings, powers == POWERS)
            targets[key] = target
            read_role = f"rt_{key}_ro_{tag}"
            _make_read_role(pg, target, read_role, role_settings)
            roles.append(read_role)
            connections.add(
                rt,
                admin,
                f"rt_{key}",
                role_url(pg, target),
                shared=True,
                read_url=role_url(pg, target, read_role),
            )
            target.name = f"rt_{key}"
        shared = Matrix(
            rt,
            meta_url,
            admin,
            users.actor_for(rt, "vera"),
            users.actor_for(rt, "dora"),
            targets,
            settings,
        )
        yield shared
        if shared.meta is not None:
            shared.meta.close()
    finally:
        engine.close(rt)
        rt.close()
        for target in targets.values():
            for held in (target.sentinel, target.checker):
                if held is not None:
                    held.close()
            if os.path.exists(target.touch):
                with contextlib.suppress(OSError):
                    os.unlink(target.touch)
            pg.drop_database(target.dbname)
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            for role in reversed(roles):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        pg.drop_database(meta_db)
