"""CLI commands of the SQL engine: `sql` runs a script, `classify` vets one without running it.

`petcare-dba sql` goes through the same engine, decisions and audit as the SQL editor, acting as
`--as USER` (default: the first admin) on `--connection` (default: demo). Exit codes: 0 success,
1 error, 2 refused or needs confirmation (`--yes` confirms; still audited). `petcare-dba
classify` prints one entry per statement (JSON for CI: index, start, end, kind, read_only,
destructive, objects, reasons, depends_on, script_verdict ...) and the verdict per role; with
`--connection C [--role R]` it resolves functions on that database and gives
`engine_verdict.verdict`, the engine's own decision. Register both with `sql.register(app)`.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import typer

from petcare_dba.cli.common import (
    actor,
    current_settings,
    emit_json,
    emit_table,
    one_of,
    runtime,
)
from petcare_dba.errors import NeedsConfirmation, PetcareError, ValidationError, redact
from petcare_dba.services import intake, spreadsheet
from petcare_dba.services.sql import (
    Classification,
    QueryResult,
    RunResult,
    engine,
    safety,
    values,
)
from petcare_dba.services.sql import verdict as engine_verdict

SQL_ARG = typer.Argument(None, help="SQL text, or - to read standard input.")
FILE = typer.Option(None, "-f", "--file", help="Read the SQL from this file (- for stdin).")


def source(sql_text: str | None, file: Path | None) -> str:
    """The script from the argument, -f FILE or standard input, checked (intake.check).

    Files and standard input are strict UTF-8; an argument's undecodable bytes arrive as lone
    surrogates (Python's surrogateescape) and are refused by the same check.
    """
    if sql_text is not None and file is not None:
        raise ValidationError("give either SQL text or -f FILE, not both")
    settings = current_settings()
    if file is not None and str(file) != "-":
        return intake.read_text_file(file, settings)
    if sql_text == "-" or (file is not None and str(file) == "-"):
        return intake.read_stream(sys.stdin.buffer, settings)
    if sql_text is None:
        raise ValidationError("no SQL given", hint="petcare-dba sql 'SELECT 1' | -f FILE | -")
    intake.check(sql_text, settings)
    return sql_text


def fail(exc: PetcareError) -> typer.Exit:
    """Print an error the way `main()` does and return the Exit carrying its code (1 or 2)."""
    typer.echo(f"error: {redact(exc.message)}", err=True)
    if isinstance(exc, NeedsConfirmation) and exc.objects:
        typer.echo(f"affects: {', '.join(exc.objects)}", err=True)
    if exc.hint:
        typer.echo(f"hint: {redact(exc.hint)}", err=True)
    if exc.sqlstate:
        typer.echo(f"sqlstate: {exc.sqlstate}", err=True)
    return typer.Exit(exc.exit_code)


def _names(columns: tuple[str, ...]) -> list[str]:
    # SELECT 1, 1 yields two "?column?" columns; suffixes keep them apart in the table.
    seen: dict[str, int] = {}
    names = []
    for col in columns:
        seen[col] = seen.get(col, 0) + 1
        names.append(col if seen[col] == 1 else f"{col}_{seen[col]}")
    return names


SPREADSHEET_SAFE = typer.Option(
    False,
    "--spreadsheet-safe",
    help="CSV for spreadsheets: prefix cells and headers starting with = + - @ tab CR with ' "
    "(default: exact values).",
)


def _print(result: RunResult, fmt: str, spreadsheet_safe: bool = False) -> None:
    if fmt == "json":
        typer.echo(values.dumps([_as_json(r) for r in result.results]))
        return
    writer = csv.writer(sys.stdout) if spreadsheet_safe else None
    for query in result.results:
        if fmt == "csv" and writer is not None:
            if query.columns:  # formula-looking cells neutralised; NULL and "" both empty (U7)
                writer.writerow(spreadsheet.row(query.columns))
                writer.writerows(spreadsheet.row(map(values.text, r)) for r in query.rows)
            sys.stdout.flush()
        elif fmt == "csv":
            # PostgreSQL's CSV COPY format: loads back with COPY ... FROM (FORMAT csv, HEADER).
            if query.columns:
                sys.stdout.write(values.csv_line(query.columns))
                sys.stdout.writelines(values.csv_line(r) for r in query.rows)
            sys.stdout.flush()
        elif query.columns:
            names = _names(query.columns)
            emit_table(
                [dict(zip(names, map(values.cell, row), strict=True)) for row in query.rows], names
            )
            typer.echo(
                f"({query.row_count} row{'s' if query.row_count != 1 else ''}, "
                f"{query.elapsed_ms:.1f} ms)"
            )
        else:
            typer.echo(f"{query.command_tag} ({query.elapsed_ms:.1f} ms)")
        if query.truncated:
            typer.echo(f"truncated: {query.truncated_reason}", err=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _as_json(query: QueryResult) -> dict[str, Any]:
    # Values by the formatter's JSON rules (services/sql/values.py): numeric as exact strings,
    # bigints beyond 2^53 as strings, arrays as arrays, json embedded as the server printed it.
    oids = query.column_oids or (0,) * len(query.columns)
    return {
        "statement_index": query.statement_index,
        "command_tag": query.command_tag,
        "columns": list(query.columns),
        "column_types": list(query.column_types),
        "rows": [
            [values.json_value(v, oid) for v, oid in zip(r, oids, strict=True)] for r in query.rows
        ],
        "row_count": query.row_count,
        "truncated": query.truncated,
        "truncated_reason": query.truncated_reason,
        "elapsed_ms": query.elapsed_ms,
    }


def sql_cmd(
    sql_text: str | None = SQL_ARG,
    file: Path | None = FILE,
    connection: str = typer.Option("demo", "--connection", help="Stored connection name."),
    as_user: str | None = typer.Option(
        None, "--as", help="Act as this user (default: the first admin)."
    ),
    fmt: str = typer.Option(
        "table", "--format", help="table, csv or json", callback=one_of("table", "csv", "json")
    ),
    max_rows: int | None = typer.Option(
        None, "--max-rows", help="Rows kept per result (default: the max_rows setting)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm destructive statements."),
    statements: bool = typer.Option(
        False, "--statements", help="Run statement by statement instead of in one transaction."
    ),
    spreadsheet_safe: bool = SPREADSHEET_SAFE,
) -> None:
    """Run SQL through the safe engine (exit 0 ok, 1 error, 2 refused/needs confirmation)."""
    if fmt not in ("table", "csv", "json"):
        raise fail(ValidationError(f"--format must be table, csv or json, not {fmt!r}"))
    if spreadsheet_safe and fmt != "csv":
        raise fail(ValidationError("--spreadsheet-safe applies to --format csv only"))
    try:
        script = source(sql_text, file)
        with runtime() as rt:
            try:
                result = engine.run(
                    rt,
                    actor(rt, as_user),
                    connection,
                    script,
                    mode="statements" if statements else "transaction",
                    confirmed=yes,
                    max_rows=max_rows,
                )
            finally:
                engine.close(rt)
    except PetcareError as exc:
        raise fail(exc) from exc
    _print(result, fmt, spreadsheet_safe)
    if result.error is not None:
        if result.error_index is not None:
            typer.echo(
                f"statement {result.error_index + 1} failed"
                + ("; nothing was committed" if not result.committed else ""),
                err=True,
            )
        raise fail(result.error)


def _outcome(decision: safety.Decision) -> dict[str, Any]:
    if isinstance(decision, safety.Reject):
        return {"outcome": "reject", "rule": decision.rule, "message": decision.message}
    if isinstance(decision, safety.Confirm):
        return {"outcome": "confirm", "rule": None, "message": decision.reason}
    return {"outcome": "allow", "rule": None, "message": None}


def _verdicts(
    script: str, connection: str | None, as_user: str | None, role: str | None
) -> tuple[list[Classification], dict[str, dict[str, Any]], bool]:
    """Classifications and the script's verdict per role: offline, or the engine's own."""
    roles = [role] if role else list(safety.ROLES)
    if connection is None:
        found = engine.classify(script)
        return found, {r: _outcome(safety.decide_script(found, r, False)) for r in roles}, False
    with runtime() as rt:
        try:
            who = actor(rt, as_user)
            verdict = engine_verdict.verdict(rt, who, connection, script, role=role)
        finally:
            engine.close(rt)
    entry = {"outcome": verdict.outcome, "rule": verdict.rule, "message": verdict.message}
    return list(verdict.classifications), {verdict.role: entry}, True


def classify_cmd(
    sql_text: str | None = SQL_ARG,
    file: Path | None = FILE,
    fmt: str = typer.Option(
        "text", "--format", help="text or json", callback=one_of("text", "json")
    ),
    connection: str | None = typer.Option(
        None,
        "--connection",
        help="Resolve functions on this stored connection and give the engine's exact verdict.",
    ),
    role: str | None = typer.Option(
        None,
        "--role",
        help="Decide for this app role (default: every role; with --connection the acting user's).",
    ),
    as_user: str | None = typer.Option(
        None, "--as", help="With --connection: act as this user (default: the first admin)."
    ),
) -> None:
    """Classify SQL without running it (read-only, DML, DDL, destructive ...) and decide per role.

    Offline, a call to a function that is not built in is a dependency and not read-only; with
    --connection the target's pg_proc resolves it, as the engine does.
    """
    if fmt not in ("text", "json"):
        raise fail(ValidationError(f"--format must be text or json, not {fmt!r}"))
    if role is not None and role not in safety.ROLES:
        raise fail(ValidationError(f"--role must be one of {', '.join(safety.ROLES)}"))
    try:
        script = source(sql_text, file)
        found, verdicts, resolved = _verdicts(script, connection, as_user, role)
    except PetcareError as exc:
        raise fail(exc) from exc
    if fmt == "json":
        emit_json([_entry(c, verdicts, resolved) for c in found])
        return
    for c in found:
        flags = ", ".join(
            f
            for f, on in (
                ("read-only", c.read_only),
                ("destructive", c.destructive),
                ("escalates", c.escalates),
            )
            if on
        )
        typer.echo(
            f"{c.index + 1}. [{c.start}-{c.end}] {c.kind} {c.command}"
            + (f" ({flags})" if flags else "")
        )
        if c.objects:
            typer.echo(f"   objects: {', '.join(c.objects)}")
        if c.depends_on:
            typer.echo(f"   depends on: {', '.join(c.depends_on)}")
        for reason in c.reasons:
            typer.echo(f"   - {reason}")
    for name, entry in verdicts.items():
        rule = f" (rule: {entry['rule']})" if entry["rule"] else ""
        typer.echo(f"{name}: {entry['outcome']}{rule}")


def _entry(
    c: Classification, verdicts: dict[str, dict[str, Any]], resolved: bool
) -> dict[str, Any]:
    # The first keys are the stable contract of `classify --format json`; the rest were added
    # by issue 12 (restricted rules, unresolved functions, per-role decisions).
    return {
        "index": c.index,
        "start": c.start,
        "end": c.end,
        "kind": str(c.kind),
        "command": c.command,
        "read_only": c.read_only,
        "destructive": c.destructive,
        "escalates": c.escalates,
        "objects": list(c.objects),
        "reasons": list(c.reasons),
        "side_effects": list(c.side_effects),
        "parse_error": c.parse_error,
        "text": c.text,
        "restricted": [{"rule": rule, "reason": reason} for rule, reason in c.restricted],
        "depends_on": list(c.depends_on),
        "resolved_on_connection": resolved,
        "script_verdict": verdicts,
    }


def register(app: typer.Typer) -> None:
    """Add `sql` and `classify` to the CLI app."""
    app.command("sql")(sql_cmd)
    app.command("classify")(classify_cmd)
