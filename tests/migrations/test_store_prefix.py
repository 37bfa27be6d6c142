"""Two deployments in one PostgreSQL cluster and in one database, told apart by store_prefix.

Each deployment migrates into its own schema with its own three roles, signs in its own admin
and sees only its own users, projects and audit rows; one deployment's roles hold no right on
the other's schema (tried as the other's login role); one migrator holding its lock does not
stop the other; dropping one leaves the other working. A prefix with quotes, upper case, a
pg_ start or more than 57 characters is refused with a message that says what is allowed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.db.naming import Names
from petcare_dba.errors import ConfigError
from petcare_dba.services import crypto
from petcare_dba.services.projects import lifecycle
from petcare_dba.services.runtime import Runtime, runtime_url
from petcare_dba.services.security import audit, auth, users
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD, PgServer


def _settings(url: str, prefix: str, data_dir: Path) -> settings_mod.Settings:
    return settings_mod.load(
        env={
            "PETCARE_DATABASE_URL": url,
            "PETCARE_STORE_PREFIX": prefix,
            "PETCARE_RUNTIME_PASSWORD": f"runtime-{prefix}-0123",
            "PETCARE_SECRET_KEY": crypto.generate_key(),
            "PETCARE_DATA_DIR": str(data_dir),
            "PETCARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PETCARE_POOL_MAX_SIZE": "2",
        }
    )


def _drop_deployment(url: str, names: Names) -> None:
    """What an operator runs to remove a deployment: its schema, then its three roles."""
    roles = [sql.Identifier(r) for r in (names.owner, names.app, names.login)]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(names.schema))
        )
        existing = conn.execute(
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)",
            ([names.owner, names.app, names.login],),
        ).fetchall()
        if existing:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.SQL(", ").join(roles)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.SQL(", ").join(roles)))


@pytest.fixture
def two_prefixes(pg: PgServer) -> Iterator[tuple[Names, Names]]:
    tag = uuid.uuid4().hex[:8]
    pair = (Names(f"dep_a_{tag}"), Names(f"dep_b_{tag}"))
    yield pair
    for names in pair:
        _drop_deployment(pg.admin_url(), names)


def _use(rt: Runtime, project: str) -> tuple[int, set[str], set[str], set[str]]:
    """Sign in this deployment's admin, add a user and a project; what the admin then sees."""
    users.ensure_first_admin(rt)
    signed = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD)
    users.add_user(rt, signed.actor, f"user_of_{project}", "viewer", USER_PASSWORD)
    lifecycle.create(rt, signed.actor, project)
    seen_users = {u.username for u in users.list_users(rt, signed.actor)}
    seen_projects = {p.name for p in lifecycle.list_projects(rt, signed.actor, all_projects=True)}
    seen_audit = {repr(e) for e in audit.recent(rt.store, signed.actor, limit=500)}
    return signed.actor.user_id, seen_users, seen_projects, seen_audit


@pytest.mark.parametrize("one_database", [True, False], ids=["one-database", "one-cluster"])
def test_two_deployments_share_a_cluster(
    pg: PgServer, two_prefixes: tuple[Names, Names], tmp_path: Path, one_database: bool
) -> None:
    a, b = two_prefixes
    db_a = pg.create_database()
    db_b = db_a if one_database else pg.create_database()
    url_a, url_b = pg.admin_url(db_a), pg.admin_url(db_b)
    rt_a = rt_b = None
    try:
        # A's migrator holds A's lock: B still migrates (its own lock key, ledger and schema).
        with psycopg.connect(url_a, autocommit=True) as holder, holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (a.lock_key(0x5E7CA4E),))
            done = threading.Event()
            errors: list[BaseException] = []

            def start_b() -> None:
                try:
                    nonlocal rt_b
                    rt_b = Runtime.start(_settings(url_b, b.prefix, tmp_path / "b"))
                except BaseException as exc:  # handed to the test thread
                    errors.append(exc)
                finally:
                    done.set()

            threading.Thread(target=start_b, daemon=True).start()
            assert done.wait(180), "B's migration waited on A's migration lock"
            assert not errors, errors
        rt_a = Runtime.start(_settings(url_a, a.prefix, tmp_path / "a"))
        assert rt_b is not None
        assert a.lock_key(0x5E7CA4E) != b.lock_key(0x5E7CA4E)
        assert (rt_a.cache.namespace, rt_b.cache.namespace) == (a.prefix, b.prefix)

        _, users_a, projects_a, audit_a = _use(rt_a, "project_of_a")
        _, users_b, projects_b, audit_b = _use(rt_b, "project_of_b")
        assert users_a == {"admin", "user_of_project_of_a"}
        assert users_b == {"admin", "user_of_project_of_b"}
        assert projects_a == {"project_of_a"} and projects_b == {"project_of_b"}
        assert "project_of_b" not in " ".join(audit_a)
        assert "project_of_a" not in " ".join(audit_b)
        with psycopg.connect(url_a) as conn:
            owners = conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = %s", (a.schema,)
            ).fetchall()
        assert owners == [(a.owner,)]
        assert all(s.applied for s in migrations.status(url_b, b))

        # Dropping A leaves B working: sign-in, writes, the audit chain.
        rt_a.close()
        rt_a = None
        _drop_deployment(url_a, a)
        signed = auth.login(rt_b.store, rt_b.settings, "admin", ADMIN_PASSWORD)
        lifecycle.create(rt_b, signed.actor, "after_a_dropped")
        assert audit.verify(rt_b.store, signed.actor).ok
        assert migrations.migrate(url_b, None, names=b) == []
    finally:
        for rt in (rt_a, rt_b):
            if rt is not None:
                rt.close()
        for name in {db_a, db_b}:
            pg.drop_database(name)


def test_a_deployment_role_has_no_right_on_the_other_schema(
    pg: PgServer, two_prefixes: tuple[Names, Names], tmp_path: Path
) -> None:
    a, b = two_prefixes
    db = pg.create_database()
    url = pg.admin_url(db)
    runtimes = []
    try:
        for names in (a, b):
            runtimes.append(Runtime.start(_settings(url, names.prefix, tmp_path / names.prefix)))
        users.ensure_first_admin(runtimes[1])
        login_a = runtime_url(url, f"runtime-{a.prefix}-0123", a.login)
        attempts = [
            (None, f'SELECT count(*) FROM "{b.schema}".users'),
            (a.app, f'SELECT count(*) FROM "{b.schema}".users'),
            (a.app, f'SELECT count(*) FROM "{b.schema}".audit_log'),
            (a.app, f"UPDATE \"{b.schema}\".users SET role = 'admin'"),
            (a.app, f"SELECT \"{b.schema}\".auth_begin('admin', NULL, 1, 1, 1)"),
            (a.app, f'SET ROLE "{b.app}"'),
            (a.app, f'SET ROLE "{b.owner}"'),
            (None, f'SET ROLE "{b.app}"'),
            (None, f'CREATE TABLE "{b.schema}".planted (x int)'),
        ]
        for role, statement in attempts:
            with psycopg.connect(login_a, autocommit=True) as conn:
                if role:
                    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
        with psycopg.connect(url) as conn:
            grants = conn.execute(
                "SELECT pg_catalog.has_schema_privilege(%s, %s, 'USAGE'),"
                " pg_catalog.has_schema_privilege(%s, %s, 'USAGE'),"
                " pg_catalog.pg_has_role(%s, %s, 'MEMBER')",
                (a.app, b.schema, a.login, b.schema, a.login, b.app),
            ).fetchone()
        assert grants == (False, False, False)
    finally:
        for rt in runtimes:
            rt.close()
        pg.drop_database(db)


@pytest.mark.parametrize(
    "prefix",
    [
        'pet"care',
        "PetCare",
        "petcare-b",
        "pet care",
        "1petcare",
        "pg_petcare",
        "public",
        "",
        "é",
        "p" * 58,  # one over: "<prefix>_owner" would pass 63 bytes
    ],
)
def test_a_bad_prefix_is_refused_with_what_is_allowed(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PETCARE_STORE_PREFIX") as refused:
        _settings("postgresql://unused@127.0.0.1:1/x", prefix, tmp_path)
    assert "lower-case letter" in (refused.value.hint or "")
    with pytest.raises(ConfigError, match="at most 57"):
        Names(prefix)


def test_the_longest_prefix_fits_every_derived_name() -> None:
    names = Names("p" * 57)
    assert max(len(n.encode()) for n in (names.owner, names.app, names.login)) == 63


def test_the_default_prefix_keeps_todays_text_and_keys() -> None:
    default = Names()
    for migration in migrations.available():
        assert default.rewrite(migration.text) == migration.text
    assert default.lock_key(0x5E7CA4E) == 0x5E7CA4E
    assert _settings("postgresql://u@h/d", "petcare", Path("/tmp")).store_prefix == "petcare"


def test_the_rewrite_is_token_exact() -> None:
    text = (
        "SELECT petcare.f() FROM petcare.t WHERE current_user = 'petcare_app' "
        "AND n = 'petcare' -- petcare_dba, petcare-dba, petcare_whatif, mypetcare, petcare_appx\n"
        "GRANT petcare_app TO petcare_login; SET search_path = petcare, pg_catalog"
    )
    assert Names("acme").rewrite(text) == (
        'SELECT "acme".f() FROM "acme".t WHERE current_user = \'acme_app\' '
        "AND n = 'acme' -- petcare_dba, petcare-dba, petcare_whatif, mypetcare, petcare_appx\n"
        'GRANT "acme_app" TO "acme_login"; SET search_path = "acme", pg_catalog'
    )
