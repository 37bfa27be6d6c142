"""Least privilege on the read path (issue 12 item 3, reliability Q3), attacked on a real server.

Viewers, read-only connections and the assistant run only as a login role that cannot signal
other backends, touch server files, bypass RLS or write: a connection registered with a
superuser URL still serves dba/admin but refuses them, with the SQL to create a read role; a
read-only credential is used instead when there is one, and the audit row names it. Every hostile
role below (privileges hidden behind group chains, NOINHERIT, a non-public schema, a single
column, a direct EXECUTE grant...) is found by the one catalog query and refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from petcare_dba.errors import PermissionDenied, Refused
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import health
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine, export
from tests.fix_db import PgServer
from tests.security.c_privilege_fixtures import create_role, drop_role, read_role, unique


@dataclass
class Db:
    """A target database with a table in public and one in a non-public schema."""

    name: str
    url: str
    roles: list[str]

    def rows(self, query: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(query.encode()).fetchall()

    def run(self, *statements: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def role(self, options: str = "LOGIN") -> tuple[str, str]:
        name = unique("hostile")
        self.roles.append(name)
        return name, create_role(self.url, name, options)


@pytest.fixture
def db(pg: PgServer, rt: Runtime) -> Iterator[Db]:
    name = pg.create_database()
    url = pg.admin_url(name)
    target = Db(name, url, [])
    target.run(
        "CREATE TABLE pets (id int PRIMARY KEY, name text)",
        "INSERT INTO pets VALUES (1, 'Rex'), (2, 'Mia')",
        "CREATE SCHEMA vault",
        "CREATE TABLE vault.secret (id int PRIMARY KEY, note text)",
        "INSERT INTO vault.secret VALUES (1, 'keep')",
    )
    yield target
    engine.close(rt)
    for role in target.roles:
        drop_role(url, role)
    pg.drop_database(name)
    for group in target.roles:
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(group)))


def _viewer_and_dba(make_user: Callable[[str, str], Actor]) -> tuple[Actor, Actor]:
    return make_user("vera", "viewer"), make_user("dora", "dba")


def _sql_events(rt: Runtime, admin: Actor) -> list[audit.AuditEntry]:
    return list(reversed(audit.recent(rt.store, admin, action="sql.execute", limit=500)))


def test_superuser_connection_refuses_viewer_and_assistant_but_serves_dba(
    rt: Runtime, admin: Actor, make_user, db: Db, pg: PgServer
) -> None:  # type: ignore[no-untyped-def]
    viewer, dba = _viewer_and_dba(make_user)
    connections.add(rt, admin, "su", db.url, shared=True)
    with pytest.raises(Refused) as refused:
        engine.run(rt, viewer, "su", "SELECT rolpassword FROM pg_authid")
    assert "superuser" in refused.value.message
    hint = refused.value.hint or ""
    assert "CREATE ROLE" in hint and "LOGIN NOINHERIT" in hint and "GRANT SELECT" in hint
    assert "ALTER DEFAULT PRIVILEGES" in hint and "connection set-read su" in hint
    assert ("GRANT SET ON PARAMETER temp_file_limit" in hint) == (pg.major >= 15)
    with pytest.raises(Refused, match="the assistant"):
        engine.run(rt, dba, "su", "SELECT 1", ai_initiated=True)
    with pytest.raises(Refused, match="superuser"):
        connections.resolve_read_url(rt, viewer, "su", who="the assistant")
    with pytest.raises(Refused, match="superuser"):
        export.export(rt, viewer, "su", "SELECT * FROM pets", _Sink())  # type: ignore[arg-type]
    # dba and admin keep the main credential.
    result = engine.run(rt, dba, "su", "SELECT current_user")
    assert result.results[0].rows == ((urlsplit(db.url).username,),)
    events = _sql_events(rt, admin)
    refusals = [e for e in events if e.outcome == "refused"]
    # The viewer's run, the assistant's run and the viewer's export: each refusal audited once.
    assert len(refusals) == 3
    assert {e.detail.get("credential") for e in refusals} == {"primary"}
    assert events[-1].outcome == "ok" and events[-1].detail["credential"] == "primary"


class _Sink:
    """A binary sink for export (nothing may reach it on a refusal)."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


def test_read_credential_serves_viewers_read_only_runs_and_the_assistant(
    rt: Runtime, admin: Actor, make_user, db: Db
) -> None:  # type: ignore[no-untyped-def]
    viewer, dba = _viewer_and_dba(make_user)
    read_url = read_role(db.url)
    db.roles.append(urlsplit(read_url).username or "")
    ro_name = urlsplit(read_url).username
    connections.add(rt, admin, "tgt", db.url, shared=True, read_url=read_url)
    who = "SELECT current_user, count(*) FROM pets"
    assert engine.run(rt, viewer, "tgt", who).results[0].rows == ((ro_name, 2),)
    assert engine.run(rt, dba, "tgt", who, ai_initiated=True).results[0].rows == ((ro_name, 2),)
    assert engine.run(rt, dba, "tgt", who).results[0].rows[0][0] == urlsplit(db.url).username
    # The read role cannot read what it was not granted, nor escape to the server.
    denied = engine.run(rt, viewer, "tgt", "SELECT * FROM vault.secret")
    assert denied.error is not None and denied.error.sqlstate == "42501"
    # PostgreSQL itself (not the classifier) stops the read role at the server's files.
    with (
        psycopg.connect(read_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT pg_read_file('PG_VERSION')")
    credentials = [e.detail.get("credential") for e in _sql_events(rt, admin) if e.detail]
    assert credentials.count("read_only") >= 3 and "primary" in credentials
    check = connections.check(rt, admin, "tgt")
    assert check.primary_can is not None and "superuser" in check.primary_can
    assert check.read_can == f"{ro_name}: read only" and check.read_path_problems == ()
    component = next(c for c in health.check(rt, admin).components if c.name == "connection:tgt")
    assert component.ok and component.data["read_can"] == check.read_can


def test_a_least_privilege_main_credential_serves_viewers_alone(
    rt: Runtime, admin: Actor, make_user, db: Db
) -> None:  # type: ignore[no-untyped-def]
    viewer, _ = _viewer_and_dba(make_user)
    name, url = db.role("LOGIN")
    connections.add(rt, admin, "plain", url, shared=True)
    assert engine.run(rt, viewer, "plain", "SELECT current_user").results[0].rows == ((name,),)
    [event] = [e for e in _sql_events(rt, admin) if e.outcome == "ok"]
    assert event.detail["credential"] == "primary"


# Each hostile setup: SQL run as the superuser with {r} the login role (and {g1}, {g2} groups),
# the role's attributes, and a fragment the refusal must name.
HOSTILE = {
    "signal-through-group-chain": (
        "LOGIN",
        [
            "CREATE ROLE {g1} NOLOGIN",
            "CREATE ROLE {g2} NOLOGIN",
            "GRANT pg_signal_backend TO {g1}",
            "GRANT {g1} TO {g2}",
            "GRANT {g2} TO {r}",
        ],
        "pg_signal_backend",
    ),
    "noinherit-member-of-read-server-files": (
        "LOGIN NOINHERIT",
        ["GRANT pg_read_server_files TO {r}"],
        "pg_read_server_files",
    ),
    "execute-server-program-via-group": (
        "LOGIN",
        [
            "CREATE ROLE {g1} NOLOGIN",
            "GRANT pg_execute_server_program TO {g1}",
            "GRANT {g1} TO {r}",
        ],
        "pg_execute_server_program",
    ),
    "write-server-files": ("LOGIN", ["GRANT pg_write_server_files TO {r}"], "server_files"),
    "update-one-table-in-a-hidden-schema": (
        "LOGIN",
        ["GRANT USAGE ON SCHEMA vault TO {r}", "GRANT UPDATE ON vault.secret TO {r}"],
        "vault.secret",
    ),
    "update-one-column": (
        "LOGIN",
        ["GRANT UPDATE (name) ON public.pets TO {r}"],
        "public.pets",
    ),
    "truncate": ("LOGIN", ["GRANT TRUNCATE ON public.pets TO {r}"], "may write 1 table"),
    "trigger": ("LOGIN", ["GRANT TRIGGER ON public.pets TO {r}"], "may write 1 table"),
    "owns-a-table": (
        "LOGIN",
        ["CREATE TABLE public.owned (id int)", "ALTER TABLE public.owned OWNER TO {r}"],
        "public.owned",
    ),
    "bypassrls": ("LOGIN BYPASSRLS", [], "BYPASSRLS"),
    "createrole": ("LOGIN CREATEROLE", [], "CREATEROLE"),
    "createdb": ("LOGIN CREATEDB", [], "CREATEDB"),
    "replication": ("LOGIN REPLICATION", [], "REPLICATION"),
    "monitor-without-stats-allowed": ("LOGIN", ["GRANT pg_monitor TO {r}"], "statistics"),
    "direct-execute-on-pg-read-file": (
        "LOGIN",
        ["GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO {r}"],
        "pg_read_file",
    ),
    "write-all-data": ("LOGIN", ["GRANT pg_write_all_data TO {r}"], "pg_write_all_data"),
    "superuser": ("LOGIN SUPERUSER", [], "superuser"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_read_credential_is_refused_and_reported_by_health(
    rt: Runtime, admin: Actor, make_user, db: Db, case: str
) -> None:  # type: ignore[no-untyped-def]
    options, setup, fragment = HOSTILE[case]
    viewer, dba = _viewer_and_dba(make_user)
    role, url = db.role(options)
    groups = {"g1": unique("grp"), "g2": unique("grp")}
    names = {"r": sql.Identifier(role), **{k: sql.Identifier(v) for k, v in groups.items()}}
    with psycopg.connect(db.url, autocommit=True) as conn:
        for statement in setup:
            if "{g" in statement and "CREATE ROLE" in statement:
                db.roles.extend(v for k, v in groups.items() if "{" + k + "}" in statement)
            conn.execute(sql.SQL(statement).format(**names))
    connections.add(rt, admin, "hostile", db.url, shared=True, read_url=url)
    before = db.rows("SELECT * FROM pets ORDER BY id") + db.rows("SELECT * FROM vault.secret")
    with pytest.raises(Refused) as refused:
        engine.run(rt, viewer, "hostile", "SELECT 1")
    assert fragment in refused.value.message
    assert "read-only credential" not in refused.value.message or role in refused.value.message
    with pytest.raises(Refused):
        engine.run(rt, dba, "hostile", "SELECT 1", ai_initiated=True)
    check = connections.check(rt, admin, "hostile")
    assert check.ok and any(fragment in p for p in check.read_path_problems)
    component = next(
        c for c in health.check(rt, admin).components if c.name == "connection:hostile"
    )
    assert not component.ok and "over-privileged" in component.detail
    after = db.rows("SELECT * FROM pets ORDER BY id") + db.rows("SELECT * FROM vault.secret")
    assert before == after


def test_statistics_roles_are_allowed_only_when_an_admin_says_so(
    rt: Runtime, admin: Actor, make_user, db: Db
) -> None:  # type: ignore[no-untyped-def]
    viewer, dba = _viewer_and_dba(make_user)
    role, url = db.role("LOGIN")
    db.run(f'GRANT pg_read_all_stats TO "{role}"')
    connections.add(rt, admin, "stats", db.url, shared=True, read_url=url)
    with pytest.raises(Refused, match="pg_read_all_stats"):
        engine.run(rt, viewer, "stats", "SELECT 1")
    with pytest.raises(PermissionDenied):
        connections.set_flags(rt, dba, "stats", ambient_credentials=False, allow_stats=True)
    connections.set_flags(rt, admin, "stats", ambient_credentials=False, allow_stats=True)
    assert engine.run(rt, viewer, "stats", "SELECT current_user").results[0].rows == ((role,),)
    [flag] = audit.recent(rt.store, admin, action="connection.flags")
    assert flag.detail == {"ambient_credentials": False, "allow_stats": True}
    # Statistics never excuse a dangerous role.
    db.run(f'GRANT pg_signal_backend TO "{role}"')
    connections.set_read_credential(rt, admin, "stats", url)  # forgets the cached verdict
    with pytest.raises(Refused, match="pg_signal_backend"):
        engine.run(rt, viewer, "stats", "SELECT 1")


def test_a_read_credential_change_is_rechecked_at_once(
    rt: Runtime, admin: Actor, make_user, db: Db
) -> None:  # type: ignore[no-untyped-def]
    viewer, _ = _viewer_and_dba(make_user)
    connections.add(rt, admin, "swap", db.url, shared=True)
    with pytest.raises(Refused):
        engine.run(rt, viewer, "swap", "SELECT 1")
    read_url = read_role(db.url)
    db.roles.append(urlsplit(read_url).username or "")
    connections.set_read_credential(rt, admin, "swap", read_url)
    assert engine.run(rt, viewer, "swap", "SELECT 1").ok
    connections.set_read_credential(rt, admin, "swap", None)
    with pytest.raises(Refused):
        engine.run(rt, viewer, "swap", "SELECT 1")
    changes = audit.recent(rt.store, admin, action="connection.read_credential")
    assert len(changes) == 2
    assert all("password" not in str(c.detail).lower() for c in changes)


def test_viewers_browse_and_complete_as_the_read_role_and_tx_on_read_only_is_checked(
    rt: Runtime, admin: Actor, make_user, db: Db
) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.services import explorer
    from petcare_dba.services.explorer import completions
    from petcare_dba.services.sql import transaction

    viewer, dba = _viewer_and_dba(make_user)
    connections.add(rt, admin, "su", db.url, shared=True, read_only=True)
    with pytest.raises(Refused, match="superuser"):
        explorer.discover(rt, viewer, "su", refresh=True)
    with pytest.raises(Refused, match="superuser"):
        completions.completions(rt, viewer, "su")
    with pytest.raises(Refused, match="read-only connections"):
        transaction.ExplicitTransaction(rt, dba, "su")
    [begin] = audit.recent(rt.store, admin, action="sql.transaction.begin", outcome="refused")
    assert begin.detail["credential"] == "primary"
    read_url = read_role(db.url)
    db.roles.append(urlsplit(read_url).username or "")
    connections.set_read_credential(rt, admin, "su", read_url)
    catalog = explorer.discover(rt, viewer, "su", refresh=True)
    # The read role sees the tables it was granted; vault.secret's data stays out of reach.
    assert catalog.get("public", "pets") is not None
    assert {c.value for c in completions.completions(rt, viewer, "su")} >= {"pets"}
    tx = transaction.ExplicitTransaction(rt, dba, "su")
    try:
        assert tx.ctx.detail["credential"] == "read_only"
    finally:
        tx.rollback()
