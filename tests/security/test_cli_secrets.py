"""No secret on argv (issue 13): URLs with passwords come from stdin, the environment or a prompt.

argv is readable by every local user (`ps`, /proc/<pid>/cmdline) and lands in shell history, so
`connection add`, `connection set-read`, `--read-url`, `--database-url` (global and `up`) and
`alerts add-webhook` (whose URL is a token as a whole)
refuse a password-bearing URL there, with a hint, and store nothing. The same URL through `-`
(stdin) or the environment variable works, and URLs without a password still work on argv.
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from petcare_dba import settings as settings_mod
from petcare_dba.cli import app
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_db import PgServer, process_env
from tests.security.c_privilege_fixtures import drop_login_role, read_role

SECRET = "Sx7-argv-must-not-9"


@pytest.fixture
def cli(test_settings: settings_mod.Settings, admin: Actor, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    monkeypatch.delenv("PETCARE_CONNECTION_URL", raising=False)
    monkeypatch.delenv("PETCARE_CONNECTION_READ_URL", raising=False)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), catch_exceptions=False, **kw)


HOSTILE_ARGV = [
    f"postgresql://u:{SECRET}@127.0.0.1:1/db",
    f"postgres://u:{SECRET}@127.0.0.1:1/db?sslmode=disable",
    f"host=127.0.0.1 port=1 user=u password={SECRET}",
    f"host=127.0.0.1 password = '{SECRET}'",
    f"postgresql://u:{SECRET}@",  # does not even parse: refused all the same
    f"postgresql://127.0.0.1:1/db?password={SECRET}",
    f"postgresql://u:{SECRET.replace('-', '%2D')}@127.0.0.1:1/db",
]


@pytest.mark.parametrize("url", HOSTILE_ARGV)
def test_connection_add_refuses_a_password_on_argv(
    cli, rt: Runtime, admin: Actor, url: str
) -> None:  # type: ignore[no-untyped-def]
    result = cli("connection", "add", "leak", url)
    assert result.exit_code == 2
    assert "refusing" in result.output and "standard input" in result.output
    assert SECRET not in result.output and SECRET.replace("-", "%2D") not in result.output
    assert connections.list_connections(rt, admin) == []
    assert audit.recent(rt.store, admin, action="connection.add") == []


def test_read_url_and_set_read_refuse_a_password_on_argv(cli, rt: Runtime, admin: Actor) -> None:  # type: ignore[no-untyped-def]
    hostile = f"postgresql://ro:{SECRET}@127.0.0.1:1/db"
    result = cli("connection", "add", "x", "postgresql://u@127.0.0.1:1/db", "--read-url", hostile)
    assert result.exit_code == 2 and SECRET not in result.output
    assert connections.list_connections(rt, admin) == []
    assert cli("connection", "add", "x", "postgresql://u@127.0.0.1:1/db").exit_code == 0
    result = cli("connection", "set-read", "x", hostile)
    assert result.exit_code == 2 and SECRET not in result.output
    assert connections.get(rt, admin, "x").read_display_url is None


def test_urls_come_from_stdin_or_the_environment(
    cli, rt: Runtime, admin: Actor, pg: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    ro = read_role(url)
    try:
        added = cli("connection", "add", "viastdin", "-", "--shared", input=url + "\n")
        assert added.exit_code == 0, added.output
        assert "main credential:" in added.output and "superuser" in added.output
        assert "viewers and the assistant are refused" in added.output
        monkeypatch.setenv("PETCARE_CONNECTION_READ_URL", ro)
        set_read = cli("connection", "set-read", "viastdin")
        assert set_read.exit_code == 0, set_read.output
        assert "read-only credential:" in set_read.output and "read only" in set_read.output
        assert "refused" not in set_read.output
        monkeypatch.setenv("PETCARE_CONNECTION_URL", url)
        both = cli("connection", "add", "viaenv", "--read-url", "-", input=ro + "\n")
        assert both.exit_code == 0, both.output
        listed = json.loads(cli("connection", "list", "--format", "json").output)
        assert {c["name"] for c in listed} == {"viastdin", "viaenv"}
        assert all(c["read_display_url"] for c in listed)
        tested = cli("connection", "test", "viaenv")
        assert tested.exit_code == 0 and "read-only credential:" in tested.output
        password = urlsplit(url).password
        for output in (added.output, set_read.output, both.output, tested.output):
            assert not password or password not in output
    finally:
        from petcare_dba.services.sql import engine

        engine.close(rt)
        pg.drop_database(dbname)
        drop_login_role(pg.admin_url(), ro)


def test_no_url_without_a_terminal_is_a_clear_error(cli) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(app, ["connection", "add", "x"], input="")
    assert result.exit_code != 0
    assert "PETCARE_CONNECTION_URL" in str(result.exception) + result.output


def test_database_url_with_a_password_is_refused_on_argv(
    test_settings: settings_mod.Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    env = process_env(test_settings)
    env["PETCARE_DATA_DIR"] = str(tmp_path)
    hostile = f"postgresql://u:{SECRET}@127.0.0.1:1/db"
    for args in (
        ["--database-url", hostile, "health"],
        ["up", "--no-serve", "--no-demo", "--database-url", hostile],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "petcare_dba.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert "PETCARE_DATABASE_URL" in done.stderr and SECRET not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr
    # Without a password the option still works (the store's own URL carries no secret here
    # only when the server trusts it; the refusal must not fire either way).
    plain = test_settings.database_url.split("@")[-1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "petcare_dba.cli",
            "--database-url",
            "postgresql://nobody@" + plain,
            "health",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 2 and "refusing" not in done.stderr


def test_webhook_urls_never_come_from_argv(cli, rt: Runtime, admin: Actor) -> None:  # type: ignore[no-untyped-def]
    """A webhook URL's path is its token (Slack, Teams): the whole URL is a secret."""
    from petcare_dba.services.alerts import channels

    hook = f"http://127.0.0.1:9/services/T000/B000/{SECRET}"  # 127.0.0.1: allowed in tests
    refused = cli("alerts", "add-webhook", "ops", hook)
    assert refused.exit_code == 2 and "refusing" in refused.output
    assert SECRET not in refused.output
    assert channels.list_channels(rt, admin) == []
    added = cli("alerts", "add-webhook", "ops", "-", input=hook + "\n")
    assert added.exit_code == 0, added.output
    assert [c.name for c in channels.list_channels(rt, admin)] == ["ops"]
    assert SECRET not in added.output
