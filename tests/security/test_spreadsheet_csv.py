"""U7: formula cells and headers in every CSV a spreadsheet may open.

Exact CSV stays the default (`export`, `sql --format csv`, the editor's "Exact CSV"); the
spreadsheet-safe variant (`--spreadsheet-safe`, the editor's "CSV for spreadsheets", the audit
CSV) prefixes every cell and header that starts with = + - @ tab or CR with a single quote.
Real PostgreSQL target; the editor download in Chromium.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from petcare_dba.cli import explain_export
from petcare_dba.services import spreadsheet
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import export
from tests.fix_engine import Target, target
from tests.sql.test_sql_cli import cli

__all__ = ["cli", "target"]  # fixtures used by name

# Headers and cells a spreadsheet would run; the last row is harmless text and numbers.
HOSTILE = (
    "SELECT * FROM (VALUES "
    "('=HYPERLINK(\"http://127.0.0.1:9/?\"&A1)', '+1+cmd|'' /C calc''!A0', '-2+3', "
    "'@SUM(1)', E'\\t=1', E'\\r=1', '＝1'), "
    "('plain', 'a=b', '5', 'x@y', 'ok', '', '3-2')"
    ') AS v("=h1", "+h2", "-h3", "@h4", "h5", "h6", "h7")'
)
EXACT_HEADER = ["=h1", "+h2", "-h3", "@h4", "h5", "h6", "h7"]
SAFE_HEADER = ["'=h1", "'+h2", "'-h3", "'@h4", "h5", "h6", "h7"]
EXACT_FIRST = [
    '=HYPERLINK("http://127.0.0.1:9/?"&A1)',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "＝1",
]
SECOND = ["plain", "a=b", "5", "x@y", "ok", "", "3-2"]


def _rows(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline="")))


def _dangerous(value: str) -> bool:
    return value.startswith(spreadsheet.TRIGGERS)


def _assert_safe(rows: list[list[str]]) -> None:
    assert rows[0] == SAFE_HEADER
    assert rows[1] == ["'" + v for v in EXACT_FIRST]
    assert rows[2] == SECOND  # harmless cells are untouched
    assert not any(_dangerous(cell) for row in rows for cell in row)


@pytest.mark.parametrize("trigger", spreadsheet.TRIGGERS)
def test_every_trigger_is_neutralised_and_nothing_else(trigger: str) -> None:
    assert spreadsheet.cell(trigger + "1") == "'" + trigger + "1"
    assert spreadsheet.cell("1" + trigger) == "1" + trigger
    assert spreadsheet.cell(None) == "" and spreadsheet.cell(5) == "5"
    assert spreadsheet.cell(-5) == "'-5"  # the documented cost: use the exact CSV for numbers


def test_export_service_exact_by_default_and_safe_on_request(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    exact = io.BytesIO()
    export.export(rt, admin, "tgt", HOSTILE, exact)
    rows = _rows(exact.getvalue().decode())
    assert rows[0] == EXACT_HEADER and rows[1] == EXACT_FIRST
    safe = io.BytesIO()
    result = export.export(rt, admin, "tgt", HOSTILE, safe, fmt="csv_spreadsheet")
    _assert_safe(_rows(safe.getvalue().decode()))
    assert result.rows == 2 and result.bytes == len(safe.getvalue())


def test_spreadsheet_export_streams_large_results_with_multiline_cells(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    out = io.BytesIO()
    result = export.export(
        rt,
        admin,
        "tgt",
        "SELECT g, E'=line\\n-two' || g AS v FROM generate_series(1, 30000) g",
        out,
        fmt="csv_spreadsheet",
    )
    rows = _rows(out.getvalue().decode())
    assert result.rows == 30000 and len(rows) == 30001
    assert rows[1] == ["1", "'=line\n-two1"] and rows[-1] == ["30000", "'=line\n-two30000"]


def test_cli_export_and_sql_csv_take_the_flag(cli, target: Target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    explain_export.register(cli)
    runner = CliRunner()
    exact = tmp_path / "exact.csv"
    result = runner.invoke(cli, ["export", "--connection", "tgt", "-o", str(exact), HOSTILE])
    assert result.exit_code == 0, result.output
    assert _rows(exact.open(newline="").read())[1] == EXACT_FIRST
    safe = tmp_path / "safe.csv"
    args = ["export", "--connection", "tgt", "--spreadsheet-safe", "-o", str(safe), HOSTILE]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    _assert_safe(_rows(safe.open(newline="").read()))
    refused = runner.invoke(cli, [*args[:3], "--format", "parquet", "--spreadsheet-safe", HOSTILE])
    assert refused.exit_code == 1 and "--spreadsheet-safe" in refused.output

    result = runner.invoke(cli, ["sql", "--connection", "tgt", "--format", "csv", HOSTILE])
    assert result.exit_code == 0, result.output
    assert _rows(result.stdout)[1] == EXACT_FIRST
    safe_args = ["sql", "--connection", "tgt", "--format", "csv", "--spreadsheet-safe", HOSTILE]
    result = runner.invoke(cli, safe_args)
    assert result.exit_code == 0, result.output
    _assert_safe(_rows(result.stdout))
    wrong = runner.invoke(cli, ["sql", "--connection", "tgt", "--spreadsheet-safe", HOSTILE])
    assert wrong.exit_code == 1 and "--format csv only" in wrong.output


@pytest.mark.browser
def test_editor_offers_both_csvs_labelled_and_the_spreadsheet_one_is_safe(
    live_app: str, browser: Any, rt: Runtime, admin: Actor, target: Target
) -> None:
    from tests.e2e.test_journey_editor import WAIT, sign_in_to_editor, type_sql

    page = sign_in_to_editor(browser, live_app)
    type_sql(page, HOSTILE, run=False)
    downloads = {}
    for label in ("Exact CSV", "CSV for spreadsheets"):
        page.get_by_role("button", name="Export").click()
        page.get_by_text(label, exact=True).click()
        page.get_by_role("button", name="Start export").click()
        page.keyboard.press("Escape")  # close the popover, which covers the download button
        button = page.get_by_role("button", name="Download")
        button.wait_for(timeout=WAIT)
        with page.expect_download(timeout=WAIT) as info:
            button.click()
        with Path(info.value.path()).open(newline="") as saved:  # keep CR inside cells
            downloads[label] = (info.value.suggested_filename, saved.read())
        # A fresh page (signed in again by the cookie, the draft restored): no stale button.
        page.reload()
        page.get_by_role("heading", name="SQL editor").wait_for(timeout=WAIT)
        page.wait_for_timeout(1500)
    name, data = downloads["Exact CSV"]
    assert name == "export.csv" and _rows(data)[1] == EXACT_FIRST
    name, data = downloads["CSV for spreadsheets"]
    assert name == "export-for-spreadsheets.csv"
    _assert_safe(_rows(data))
    page.context.close()
