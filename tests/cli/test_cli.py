"""The CLI in-process (typer's runner) on this test's metadata store: contracts and exit codes."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from petcare_dba import settings as settings_mod
from petcare_dba.cli import app
from petcare_dba.services.actor import Actor
from tests.fix_db import PgServer


@pytest.fixture
def cli(test_settings: settings_mod.Settings, admin: Actor, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), catch_exceptions=False, **kw)


def test_health_json_reports_components_and_exit_code(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("health", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["healthy"] is True
    names = {c["name"] for c in report["components"]}
    assert {"metadata", "secret_key", "ai"} <= names
    # The details stay English here (scripts, logs); the UI says the same sentences in the
    # user's language (issue 19), so the JSON carries no catalogue keys.
    by_name = {c["name"]: c for c in report["components"]}
    assert re.fullmatch(r"\d+ data key version\(s\) unwrapped", by_name["secret_key"]["detail"])
    assert by_name["alert_delivery"]["detail"] == "no alert channel configured"
    assert all("detail_parts" not in c for c in report["components"])
    table = cli("health").output
    assert "no alert channel configured" in table and "data key version(s) unwrapped" in table


def test_health_fails_when_the_store_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PETCARE_DATABASE_URL", "postgresql://u:pw@127.0.0.1:1/db?connect_timeout=2")
    monkeypatch.setenv("PETCARE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["health", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["healthy"] is False and "pw" not in result.output


def test_user_and_connection_commands(cli, pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PETCARE_NEW_PASSWORD", "Hk2-olive-compass-58")
    assert cli("user", "add", "ana", "--role", "analyst").exit_code == 0
    listed = json.loads(cli("user", "list", "--format", "json").output)
    assert {u["username"]: u["role"] for u in listed} == {"admin": "admin", "ana": "analyst"}
    assert cli("user", "set-role", "ana", "dba").exit_code == 0
    url = pg.admin_url("postgres")
    # Issue 13: the password-bearing URL comes from stdin, never from argv.
    added = cli("connection", "add", "srv", "-", "--shared", input=url + "\n")
    assert added.exit_code == 0 and (pg.url.split("@")[0] not in added.output)
    listing = cli("connection", "list", "--format", "json")
    assert json.loads(listing.output)[0]["name"] == "srv"
    tested = cli("connection", "test", "srv", "--format", "json")
    assert tested.exit_code == 0 and json.loads(tested.output)["ok"] is True
    assert cli("user", "disable", "ana").exit_code == 0
    assert cli("user", "enable", "ana").exit_code == 0
    assert cli("user", "unlock", "ana").exit_code == 0
    assert cli("connection", "remove", "srv").exit_code == 0


def test_audit_and_settings_commands(cli) -> None:  # type: ignore[no-untyped-def]
    verified = cli("audit", "verify", "--format", "json")
    assert verified.exit_code == 0 and json.loads(verified.output)["ok"] is True
    assert "user.create" in cli("audit", "list").output
    shown = json.loads(cli("settings", "--format", "json").output)
    secret = next(s for s in shown if s["name"] == "secret_key")
    assert secret["value"] == "(set)"
    assert cli("keys", "generate").output.strip()
    assert cli("migrate").output.strip() == "schema is up to date"


def test_errors_exit_1_with_a_message_and_no_traceback(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    env = dict(__import__("os").environ)
    result = subprocess.run(
        [sys.executable, "-m", "petcare_dba.cli", "user", "set-role", "nobody", "viewer"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "error: no user named 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr
