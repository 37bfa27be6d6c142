"""`petcare-dba settings list|set|reset` (issue 19) through typer's runner on this test's store:
the same service as the page, exit codes, and no secret on the command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from petcare_dba import settings as settings_mod
from petcare_dba.cli import app, main
from petcare_dba.services.actor import Actor


@pytest.fixture
def cli(test_settings: settings_mod.Settings, admin: Actor, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), catch_exceptions=False, **kw)


def _listed(cli: Any) -> dict[str, dict[str, Any]]:
    result = cli("settings", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {r["name"]: r for r in json.loads(result.output)}


def _stored(meta_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(meta_url) as conn:
        return conn.execute(
            b"SELECT name, value_text, secret_enc IS NOT NULL FROM petcare.setting_overrides"
        ).fetchall()


def test_set_list_reset(cli: Any, meta_url: str) -> None:
    assert cli("settings", "set", "alert_flap_limit", "7").exit_code == 0
    row = _listed(cli)["alert_flap_limit"]
    assert (row["value"], row["source"], row["default"], row["updated_by"]) == (
        "7",
        "override",
        "3",
        "admin",
    )
    assert _stored(meta_url) == [("alert_flap_limit", "7", False)]
    result = cli("settings", "reset", "alert_flap_limit")
    assert result.exit_code == 0 and "reset" in result.output
    assert _listed(cli)["alert_flap_limit"]["source"] == "default"
    assert _stored(meta_url) == []
    # The whole-registry view still works without a sub-command.
    shown = json.loads(cli("settings", "--format", "json").output)
    assert any(r["name"] == "settings_refresh_s" for r in shown)


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The real entry point: a PetcareError becomes a message on stderr and exit 1."""
    saved = sys.argv
    sys.argv = ["petcare-dba", *argv]
    try:
        with pytest.raises(SystemExit) as info:
            main()
    finally:
        sys.argv = saved
    out = capsys.readouterr()
    return int(info.value.code or 0), out.err


def test_a_bad_value_exits_1_and_stores_nothing(
    cli: Any, meta_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _main(["settings", "set", "ai_retries", "99"], capsys)
    assert code == 1 and "between 0 and 20" in err
    code, err = _main(["settings", "set", "database_url", "postgresql://h/db"], capsys)
    assert code == 1 and "cannot be changed at run time" in err
    assert _stored(meta_url) == []


def test_a_secret_never_comes_from_argv(
    cli: Any, meta_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("settings", "set", "smtp_password", "hunter2-on-argv")
    assert result.exit_code == 2 and "command line" in result.output
    assert _stored(meta_url) == []
    monkeypatch.setenv("PETCARE_SETTING_VALUE", "hunter2-from-env")
    result = cli("settings", "set", "smtp_password")
    assert result.exit_code == 0, result.output
    assert _stored(meta_url) == [("smtp_password", None, True)]
    listed = cli("settings", "list", "--format", "json").output
    assert "hunter2" not in listed and json.loads(listed)  # shown as (set)
    assert _listed(cli)["smtp_password"]["value"] == "(set)"
