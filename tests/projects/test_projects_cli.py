"""`petcare-dba project ...` and `script ...`: the projects journey from the command line, as
different users (`--as`) obeying the same row level security as the UI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from petcare_dba.cli import common
from petcare_dba.cli import projects as projects_cli
from petcare_dba.errors import EditConflict, NotFound, PermissionDenied
from petcare_dba.services.actor import Actor
from petcare_dba.settings import Settings
from tests.fix_db import RUNTIME_PASSWORD
from tests.fix_engine import Target, target

__all__ = ["target"]


@pytest.fixture
def cli(test_settings: Settings, monkeypatch: pytest.MonkeyPatch, make_user) -> typer.Typer:  # type: ignore[no-untyped-def]
    for key, value in {
        "PETCARE_DATABASE_URL": test_settings.database_url,
        "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
        "PETCARE_SECRET_KEY": test_settings.secret_key,
        "PETCARE_DATA_DIR": str(test_settings.data_dir),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PETCARE_CONFIG", raising=False)
    monkeypatch.setitem(common.STATE, "overrides", {})
    for name, role in (("olga", "analyst"), ("vera", "viewer"), ("xavier", "analyst")):
        make_user(name, role)
    app = typer.Typer()
    projects_cli.register(app)
    return app


def _ok(app: typer.Typer, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_cli_journey_create_members_versions_diff_revert_run_history(
    cli: typer.Typer, target: Target, tmp_path: Path, admin: Actor
) -> None:
    _ok(cli, "project", "create", "Pets", "-d", "pet counts", "--as", "olga")
    _ok(cli, "project", "members", "add", "Pets", "vera", "--role", "viewer", "--as", "olga")
    sql1, sql2 = tmp_path / "v1.sql", tmp_path / "v2.sql"
    sql1.write_text("SELECT count(*) AS n FROM t")
    sql2.write_text("SELECT count(*) AS n FROM t WHERE id > 1")
    out = _ok(
        cli,
        "script",
        "save",
        "Pets",
        "count",
        "-f",
        str(sql1),
        "-m",
        "first",
        "--connection",
        "tgt",
        "--as",
        "olga",
    )
    assert "count v1 saved" in out.stdout
    _ok(cli, "script", "save", "Pets", "count", "-f", str(sql2), "-m", "second", "--as", "olga")
    again = _ok(cli, "script", "save", "Pets", "count", "-f", str(sql2), "--as", "olga")
    assert "unchanged (v2)" in again.stdout
    history = json.loads(
        _ok(cli, "script", "history", "Pets", "count", "--format", "json", "--as", "vera").stdout
    )
    assert [(v["version"], v["message"]) for v in history] == [(2, "second"), (1, "first")]
    diff = _ok(cli, "script", "diff", "Pets", "count", "1", "2", "--as", "vera").stdout
    assert "-SELECT count(*) AS n FROM t" in diff and "+SELECT count(*) AS n FROM t WHERE" in diff
    side = _ok(cli, "script", "diff", "Pets", "count", "1", "2", "-y", "--as", "vera").stdout
    assert " | " in side
    _ok(cli, "script", "revert", "Pets", "count", "1", "--as", "olga")
    shown = _ok(cli, "script", "show", "Pets", "count", "--as", "vera").stdout
    assert shown.strip() == "SELECT count(*) AS n FROM t"
    run = _ok(cli, "script", "run", "Pets", "count", "--version", "2", "--as", "vera")
    assert run.stdout.splitlines()[2].strip() == "2"
    _ok(cli, "script", "run", "Pets", "count", "--as", "olga")
    runs = json.loads(
        _ok(cli, "script", "runs", "Pets", "count", "--format", "json", "--as", "vera").stdout
    )
    assert [(r["version"], r["username"], r["outcome"]) for r in runs] == [
        (3, "olga", "ok"),
        (2, "vera", "ok"),
    ]
    listed = json.loads(_ok(cli, "project", "list", "--format", "json", "--as", "vera").stdout)
    assert [(p["name"], p["my_role"], p["scripts"]) for p in listed] == [("Pets", "viewer", 1)]
    shown_project = _ok(cli, "project", "show", "Pets", "--as", "vera").stdout
    assert "owner olga" in shown_project and "vera" in shown_project


def test_cli_obeys_rls_for_outsiders_and_viewers(cli: typer.Typer, tmp_path: Path) -> None:
    _ok(cli, "project", "create", "Private", "--as", "olga")
    _ok(cli, "project", "members", "add", "Private", "vera", "--as", "olga")
    assert _ok(cli, "project", "list", "--as", "xavier").stdout.strip() == "(no rows)"
    hidden = CliRunner().invoke(cli, ["project", "show", "Private", "--as", "xavier"])
    assert isinstance(hidden.exception, NotFound)
    file = tmp_path / "q.sql"
    file.write_text("SELECT 1")
    denied = CliRunner().invoke(
        cli, ["script", "save", "Private", "q", "-f", str(file), "--as", "vera"]
    )
    assert isinstance(denied.exception, PermissionDenied)
    everything = _ok(cli, "project", "list", "--all", "--format", "json").stdout  # first admin
    assert [p["name"] for p in json.loads(everything)] == ["Private"]


def test_cli_save_with_a_stale_base_prints_the_diff_and_saves_nothing(
    cli: typer.Typer, tmp_path: Path
) -> None:
    _ok(cli, "project", "create", "P", "--as", "olga")
    for text in ("SELECT 1", "SELECT 2"):
        _ok(cli, "script", "save", "P", "q", "-f", "-", "--as", "olga", stdin=text)
    stale = CliRunner().invoke(
        cli,
        ["script", "save", "P", "q", "-f", "-", "--base", "1", "--as", "olga"],
        input="SELECT 3",
    )
    assert isinstance(stale.exception, EditConflict)
    assert "+SELECT 3" in stale.output and "-SELECT 2" in stale.output
    history = _ok(cli, "script", "history", "P", "q", "--as", "olga").stdout
    assert len(history.strip().splitlines()) == 4  # header, rule, v2, v1


def test_cli_export_import_archive_delete(cli: typer.Typer, tmp_path: Path) -> None:
    _ok(cli, "project", "create", "Old", "--as", "olga")
    _ok(cli, "script", "save", "Old", "q", "-f", "-", "--as", "olga", stdin="SELECT 1")
    archive = tmp_path / "old.zip"
    _ok(cli, "project", "export", "Old", "-o", str(archive), "--as", "olga")
    imported = _ok(cli, "project", "import", str(archive), "--name", "New", "--as", "xavier")
    assert "1 scripts, 1 versions" in imported.stdout
    refused = CliRunner().invoke(cli, ["project", "delete", "Old", "--yes", "--as", "olga"])
    assert refused.exception is not None and "archive" in str(refused.exception)
    _ok(cli, "project", "archive", "Old", "--as", "olga")
    _ok(cli, "project", "delete", "Old", "--yes", "--as", "olga")
    assert _ok(cli, "project", "list", "--as", "olga").stdout.strip() == "(no rows)"
