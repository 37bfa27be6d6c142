"""No ambient credentials (issue 12 item 4, reliability Q14), against a real SCRAM login.

The app process's environment holds PGPASSWORD, a PGPASSFILE, a service file and hostile PG*
options. A stored connection never completes itself from them: without a password in its URL it
fails with a clear message, and options like PGOPTIONS or PGSSLMODE do not reach it. Only an
admin can mark a connection "use ambient credentials" (audited), and then it works. The app code
never touches os.environ; the tests set it as an operator would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from petcare_dba.db import target
from petcare_dba.errors import PermissionDenied, PetcareError, Refused
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer
from tests.security.c_privilege_fixtures import ROLE_PASSWORD, create_role, drop_role, unique


@dataclass
class Ambient:
    """A database, a SCRAM login role on it, and its URL with and without the password."""

    dbname: str
    admin_url: str
    role: str
    url: str
    bare_url: str
    scram: bool


def _requires_password(bare_url: str) -> bool:
    """Whether the server asks this role for a password (the embedded server: SCRAM)."""
    try:
        conn = psycopg.connect(
            target.isolated(bare_url), connect_timeout=5, application_name="probe"
        )
    except psycopg.OperationalError:
        return True
    conn.close()
    return False


@pytest.fixture
def amb(
    pg: PgServer, rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Ambient]:
    before = {k: v for k, v in os.environ.items() if k.startswith("PG")}
    dbname = pg.create_database()
    admin_url = pg.admin_url(dbname)
    role = unique("amb")
    url = create_role(admin_url, role, "LOGIN NOINHERIT")
    parts = urlsplit(url)
    bare = f"postgresql://{role}@{parts.hostname}:{parts.port or 5432}/{dbname}"
    scram = _requires_password(bare)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:{role}:{ROLE_PASSWORD}\n", encoding="utf-8")
    passfile.chmod(0o600)
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[petcare_amb]\nuser={role}\npassword={ROLE_PASSWORD}\napplication_name=from-service\n",
        encoding="utf-8",
    )
    # What an operator's shell may hold: the service account's credentials and options.
    monkeypatch.setenv("PGPASSWORD", ROLE_PASSWORD)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.delenv("PGSERVICE", raising=False)
    yield Ambient(dbname, admin_url, role, url, bare, scram)
    engine.close(rt)
    for name in [k for k in os.environ if k.startswith("PG")]:  # monkeypatch undoes it later
        if name not in before:
            os.environ.pop(name)
    drop_role(admin_url, role)
    pg.drop_database(dbname)


def _need_scram(amb: Ambient) -> bool:
    """False on a server that trusts the role (CI's PostgreSQL 15): the caller then checks the
    mechanism itself — what password libpq resolved — instead of the server's verdict."""
    if amb.scram:
        return True
    with psycopg.connect(amb.bare_url, connect_timeout=5) as conn:
        assert conn.info.password == ROLE_PASSWORD, "plain libpq borrows the environment's"
    with target.connect(target.isolated(amb.bare_url), "petcare-dba/test") as conn:
        assert not conn.info.password, "the isolated conninfo borrowed a password"
    with target.connect(target.isolated(amb.bare_url, ambient=True), "petcare-dba/test") as conn:
        assert conn.info.password == ROLE_PASSWORD
    return False


def test_a_url_without_password_does_not_borrow_pgpassword_or_pgpass(
    rt: Runtime, admin: Actor, make_user, amb: Ambient
) -> None:  # type: ignore[no-untyped-def]
    if not _need_scram(amb):
        return
    viewer = make_user("vera", "viewer")
    # Sanity: plain libpq would log in with the environment's password.
    with psycopg.connect(amb.bare_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (amb.role,)
    connections.add(rt, admin, "bare", amb.bare_url, shared=True)
    for actor in (admin, viewer):
        with pytest.raises(PetcareError) as failed:
            engine.run(rt, actor, "bare", "SELECT 1")
        assert "no password" in failed.value.message
        assert "ambient credentials" in (failed.value.hint or "")
        assert ROLE_PASSWORD not in failed.value.message + (failed.value.hint or "")
    check = connections.check(rt, admin, "bare")
    assert not check.ok and "no password" in (check.error or "")
    # Only PGPASSFILE left: still nothing borrowed.
    os.environ.pop("PGPASSWORD")
    with pytest.raises(PetcareError, match="no password"):
        engine.run(rt, admin, "bare", "SELECT 1")


def test_an_admin_marked_connection_uses_the_ambient_credentials_and_it_is_audited(
    rt: Runtime, admin: Actor, make_user, amb: Ambient
) -> None:  # type: ignore[no-untyped-def]
    if not _need_scram(amb):
        return
    dba = make_user("dora", "dba")
    connections.add(rt, admin, "bare", amb.bare_url, shared=True)
    with pytest.raises(PermissionDenied):
        connections.set_flags(rt, dba, "bare", ambient_credentials=True, allow_stats=False)
    with pytest.raises(PermissionDenied):
        connections.add(rt, dba, "mine", amb.bare_url, ambient_credentials=True)
    connections.set_flags(rt, admin, "bare", ambient_credentials=True, allow_stats=False)
    engine.close(rt)
    result = engine.run(rt, dba, "bare", "SELECT current_user")
    assert result.results[0].rows == ((amb.role,),)
    os.environ.pop("PGPASSWORD")  # now the .pgpass named by PGPASSFILE supplies it
    engine.close(rt)
    assert engine.run(rt, dba, "bare", "SELECT 1").ok
    [flag] = audit.recent(rt.store, admin, action="connection.flags")
    assert flag.username == "admin" and flag.detail["ambient_credentials"] is True
    connections.set_flags(rt, admin, "bare", ambient_credentials=False, allow_stats=False)
    engine.close(rt)
    with pytest.raises(PetcareError, match="no password"):
        engine.run(rt, dba, "bare", "SELECT 1")


def test_pgservice_in_the_environment_is_refused_unless_ambient(
    rt: Runtime, admin: Actor, make_user, amb: Ambient
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    connections.add(rt, admin, "withpw", amb.url, shared=True)
    connections.add(rt, admin, "bare", amb.bare_url, shared=True)
    assert engine.run(rt, dba, "withpw", "SELECT 1").ok
    os.environ["PGSERVICE"] = "petcare_amb"
    os.environ.pop("PGPASSWORD")
    os.environ.pop("PGPASSFILE")
    engine.close(rt)
    for name in ("withpw", "bare"):
        with pytest.raises(Refused, match="PGSERVICE"):
            engine.run(rt, dba, name, "SELECT 1")
    connections.set_flags(rt, admin, "bare", ambient_credentials=True, allow_stats=False)
    # Marked: the service (which carries the password) is used, as libpq would.
    result = engine.run(rt, dba, "bare", "SELECT current_user")
    assert result.results[0].rows == ((amb.role,),)


def test_hostile_pg_options_in_the_environment_do_not_reach_a_stored_connection(
    rt: Runtime, admin: Actor, make_user, amb: Ambient, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    connections.add(rt, admin, "withpw", amb.url, shared=True)
    # Each of these, if libpq applied it, would change the session or break the connection.
    hostile = {
        "PGOPTIONS": "-c search_path=evil -c statement_timeout=1",
        "PGAPPNAME": "borrowed-app-name",
        "PGSSLMODE": "require",
        "PGTARGETSESSIONATTRS": "standby",
        "PGHOSTADDR": "192.0.2.1",
        "PGCLIENTENCODING": "LATIN1",
        "PGCHANNELBINDING": "require",
        "PGGSSENCMODE": "require",
        "PGSSLCERT": "/nonexistent/hostile.crt",
        "PGMAXPROTOCOLVERSION": "3.9",
    }
    for key, value in hostile.items():
        monkeypatch.setenv(key, value)
    engine.close(rt)
    result = engine.run(
        rt,
        dba,
        "withpw",
        "SELECT current_setting('search_path'), current_setting('statement_timeout') <> '1ms',"
        " current_setting('client_encoding')",
    )
    assert result.error is None, result.error
    path, timeout_ok, encoding = result.results[0].rows[0]
    assert "evil" not in path and timeout_ok and encoding != "LATIN1"


@pytest.mark.parametrize(
    "suffix", ["?service=petcare_amb", "?passfile=/root/.pgpass", "?passfile=%2Fetc%2Fpasswd"]
)
def test_a_stored_url_that_names_a_service_or_passfile_needs_an_admin_mark(
    rt: Runtime, admin: Actor, make_user, amb: Ambient, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    with pytest.raises(Refused, match="reads files of the app's host"):
        connections.add(rt, dba, "svc", amb.bare_url + suffix)
    with pytest.raises(Refused, match="reads files of the app's host"):
        connections.add(rt, admin, "svc", amb.bare_url + suffix)
    assert [c.name for c in connections.list_connections(rt, admin)] == []
    connections.add(rt, admin, "svc", amb.bare_url + suffix, ambient_credentials=True)
    assert connections.get(rt, admin, "svc").ambient_credentials


def test_a_remembered_isolation_still_refuses_pgservice_set_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """isolated() remembers what it made of a URL (issue 16): the environment check is not part
    of what is remembered, so PGSERVICE set after a first call is refused on the next."""
    isolated = target.isolated
    url = "postgresql://u:p@127.0.0.1:5432/d"
    monkeypatch.delenv("PGSERVICE", raising=False)
    first = isolated(url)
    assert isolated(url) == first
    monkeypatch.setenv("PGSERVICE", "evil")
    with pytest.raises(Refused, match="PGSERVICE"):
        isolated(url)
    monkeypatch.delenv("PGSERVICE")
    assert isolated(url) == first
    with pytest.raises(Refused, match="reads files"):
        isolated("postgresql://u:p@127.0.0.1:5432/d?passfile=/tmp/x")
