"""CLI commands `explain` and `export`, on the same engine, decisions and audit as the UI.

`petcare-dba explain [--analyze] [--yes] [--format text|json] SQL` prints the plan tree with the
costliest nodes marked (EXPLAIN ANALYZE of a writing statement runs in a rolled-back transaction
and needs `--yes` where running it would). `petcare-dba export [--format csv|parquet|jsonl]
[--spreadsheet-safe] [-o FILE] SQL` streams one read-only SELECT (exact CSV unless
--spreadsheet-safe) to a file or standard output, capped by
`export_max_rows_<role>`. Exit codes as for `sql`: 0 ok, 1 error, 2 refused / needs
confirmation. Register both with `explain_export.register(app)`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import typer

from petcare_dba.cli.common import actor, emit_json, one_of, runtime
from petcare_dba.cli.sql import FILE, SPREADSHEET_SAFE, SQL_ARG, fail, source
from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, explain, export

CONNECTION = typer.Option("demo", "--connection", help="Stored connection name.")
AS_USER = typer.Option(None, "--as", help="Act as this user (default: the first admin).")


def explain_cmd(
    sql_text: str | None = SQL_ARG,
    file: Path | None = FILE,
    analyze: bool = typer.Option(False, "--analyze", help="Run it (rolled back) and time it."),
    connection: str = CONNECTION,
    as_user: str | None = AS_USER,
    yes: bool = typer.Option(False, "--yes", help="Confirm where running it needs it."),
    fmt: str = typer.Option(
        "text", "--format", help="text or json (the raw plan)", callback=one_of("text", "json")
    ),
) -> None:
    """Show a statement's plan (EXPLAIN, or EXPLAIN ANALYZE inside a rolled-back transaction)."""
    if fmt not in ("text", "json"):
        raise fail(ValidationError(f"--format must be text or json, not {fmt!r}"))
    try:
        script = source(sql_text, file)
        with runtime() as rt:
            try:
                result = explain.explain(
                    rt, actor(rt, as_user), connection, script, analyze=analyze, confirmed=yes
                )
            finally:
                engine.close(rt)
    except PetcareError as exc:
        raise fail(exc) from exc
    if fmt == "json":
        emit_json(result.raw)
        return
    metric = "ms" if result.analyzed else "cost"
    for node in result.nodes:
        own = node.self_ms if result.analyzed else node.self_cost
        rows = node.actual_rows if result.analyzed else node.plan_rows
        line = (
            f"{'  ' * node.depth}-> {node.node_type}"
            + (f" on {node.relation}" if node.relation else "")
            + f"  (self {own} {metric}, {node.share}%, rows {rows:g}, total cost {node.total_cost})"
        )
        typer.echo(("* " if node.hot else "  ") + line)
        if node.detail:
            typer.echo(f"  {'  ' * node.depth}   {node.detail}")
    if result.analyzed:
        typer.echo(
            f"planning {result.planning_ms} ms, execution {result.execution_ms} ms "
            "(rolled back); * marks the costliest nodes"
        )
    else:
        typer.echo("* marks the costliest nodes (by cost)")


def export_cmd(
    sql_text: str | None = SQL_ARG,
    file: Path | None = FILE,
    connection: str = CONNECTION,
    as_user: str | None = AS_USER,
    fmt: str = typer.Option(
        "csv",
        "--format",
        help="csv, parquet or jsonl (one JSON object per row)",
        callback=one_of("csv", "parquet", "jsonl"),
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    spreadsheet_safe: bool = SPREADSHEET_SAFE,
) -> None:
    """Stream the result of one read-only SELECT as CSV, Parquet or JSON Lines (capped per role).

    CSV is exact by default; `--spreadsheet-safe` neutralises formula-looking cells (U7).
    """
    if spreadsheet_safe:
        if fmt != "csv":
            raise fail(ValidationError("--spreadsheet-safe applies to --format csv only"))
        fmt = "csv_spreadsheet"
    if output is None and fmt == "parquet" and sys.stdout.isatty():
        raise fail(ValidationError("Parquet is binary: give -o FILE or redirect stdout"))
    try:
        script = source(sql_text, file)
        with runtime() as rt:
            try:
                if output is not None:
                    with output.open("wb") as out:
                        result = _export(rt, as_user, connection, script, out, fmt)
                else:
                    result = _export(rt, as_user, connection, script, sys.stdout.buffer, fmt)
                    sys.stdout.flush()
            finally:
                engine.close(rt)
    except PetcareError as exc:
        if output is not None and output.exists():
            output.unlink()
        raise fail(exc) from exc
    typer.echo(f"exported {result.rows} rows, {result.bytes} bytes", err=True)
    if result.truncated:
        typer.echo(
            f"stopped at export_max_rows for your role ({result.max_rows}); there may be more",
            err=True,
        )


def _export(
    rt: Runtime, as_user: str | None, connection: str, script: str, out: BinaryIO, fmt: str
) -> export.ExportResult:
    return export.export(rt, actor(rt, as_user), connection, script, out, fmt=fmt)


def register(app: typer.Typer) -> None:
    """Add `explain` and `export` to the CLI app."""
    app.command("explain")(explain_cmd)
    app.command("export")(export_cmd)
