"""`petcare-dba sql` and `petcare-dba classify`: output formats and the exit-code contract.

The commands are registered on a fresh Typer app here (the main app registers them in
petcare_dba.cli), configured through PETCARE_* variables pointing at this test's store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from petcare_dba.cli import common
from petcare_dba.cli import sql as sql_cli
from petcare_dba.services.runtime import Runtime
from petcare_dba.settings import Settings
from tests.fix_db import RUNTIME_PASSWORD
from tests.fix_engine import SEED, Target, events, target

__all__ = ["target"]  # the fixture is used by name


@pytest.fixture
def cli(test_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with only the sql commands, configured for this test's metadata store."""
    for key, value in {
        "PETCARE_DATABASE_URL": test_settings.database_url,
        "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
        "PETCARE_SECRET_KEY": test_settings.secret_key,
        "PETCARE_DATA_DIR": str(test_settings.data_dir),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PETCARE_CONFIG", raising=False)
    monkeypatch.setitem(common.STATE, "overrides", {})
    app = typer.Typer()
    sql_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps `sql` and `classify` as sub-commands
        """Test app."""

    return app


def test_sql_prints_a_table_and_exits_zero(cli: typer.Typer, target: Target) -> None:
    result = CliRunner().invoke(
        cli, ["sql", "--connection", "tgt", "SELECT id, note FROM t ORDER BY id"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "note"] and lines[2].split() == ["1", "one"]
    assert "(3 rows" in result.stdout


def test_sql_json_and_csv_formats(cli: typer.Typer, target: Target) -> None:
    out = CliRunner().invoke(
        cli,
        [
            "sql",
            "--connection",
            "tgt",
            "--format",
            "json",
            "--max-rows",
            "2",
            "SELECT id FROM t ORDER BY id",
        ],
    )
    assert out.exit_code == 0, out.output
    (data,) = json.loads(out.stdout)
    assert data["rows"] == [[1], [2]] and data["truncated"] is True
    assert data["column_types"] == ["int4"]
    out = CliRunner().invoke(
        cli, ["sql", "--connection", "tgt", "--format", "csv", "SELECT id, note FROM t ORDER BY id"]
    )
    assert out.stdout.splitlines() == ["id,note", "1,one", "2,two", "3,three"]


def test_sql_reads_a_file_or_stdin(cli: typer.Typer, target: Target, tmp_path: Path) -> None:
    script = tmp_path / "q.sql"
    script.write_text("SELECT count(*) AS n FROM t;\n", encoding="utf-8")
    out = CliRunner().invoke(
        cli, ["sql", "--connection", "tgt", "--format", "json", "-f", str(script)]
    )
    assert json.loads(out.stdout)[0]["rows"] == [[3]]
    out = CliRunner().invoke(
        cli, ["sql", "--connection", "tgt", "--format", "json", "-"], input="SELECT 7 AS seven"
    )
    assert json.loads(out.stdout)[0]["rows"] == [[7]]


def test_sql_exit_codes_refused_confirm_and_error(
    cli: typer.Typer, rt: Runtime, admin, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    make_user("vera", "viewer")
    out = CliRunner().invoke(cli, ["sql", "--connection", "tgt", "--as", "vera", "DELETE FROM t"])
    assert out.exit_code == 2 and "viewer may run read-only" in out.stderr
    out = CliRunner().invoke(cli, ["sql", "--connection", "tgt", "DELETE FROM t"])
    assert out.exit_code == 2 and "affects: t" in out.stderr and "--yes" in out.stderr
    assert target.table() == SEED
    out = CliRunner().invoke(cli, ["sql", "--connection", "tgt", "SELECT 1/0"])
    assert out.exit_code == 1 and "division by zero" in out.stderr and "22012" in out.stderr
    out = CliRunner().invoke(cli, ["sql", "--connection", "tgt", "--yes", "DELETE FROM t"])
    assert out.exit_code == 0 and "DELETE 3" in out.stdout
    assert target.table() == []
    assert [e.outcome for e in events(rt, admin)][-2:] == ["intent", "ok"]


def test_classify_json_contract(cli: typer.Typer) -> None:
    out = CliRunner().invoke(
        cli, ["classify", "--format", "json", "-"], input="SELECT * FROM t; DROP TABLE t CASCADE"
    )
    assert out.exit_code == 0, out.output
    first, second = json.loads(out.stdout)
    for key in ("index", "start", "end", "kind", "read_only", "destructive", "objects", "reasons"):
        assert key in first
    assert (first["read_only"], second["destructive"], second["objects"]) == (True, True, ["t"])
    assert (second["start"], second["end"]) == (17, 37)
    text = CliRunner().invoke(cli, ["classify", "-"], input="DELETE FROM t")
    assert "destructive" in text.stdout and "objects: t" in text.stdout
