"""CLI commands for a project's versioned scripts: `petcare-dba script list|save|show|history|diff|
revert|delete|restore|run|runs`, registered by `cli.projects.register`.

Acting as `--as USER` through the same services and row level security as the UI. `save` reads
`-f FILE` (- for stdin) and, with `--base N`, refuses to save on top of a replaced version and
prints the diff (exit 1); `run` goes through the SQL engine and links the run to the version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from petcare_dba.cli.common import (
    actor,
    current_settings,
    emit,
    emit_json,
    emit_table,
    one_of,
    runtime,
)
from petcare_dba.errors import EditConflict
from petcare_dba.services import intake
from petcare_dba.services.projects import runs, scripts, versions
from petcare_dba.services.sql import engine

script_app = typer.Typer(no_args_is_help=True, help="Versioned scripts of a project.")
AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option("table", "--format", help="table or json", callback=one_of("table", "json"))


@script_app.command("list")
def script_list(
    project: str,
    deleted: bool = typer.Option(False, "--deleted", help="Soft-deleted scripts instead."),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Scripts of a project."""
    with runtime() as rt:
        rows = scripts.list_scripts(rt, actor(rt, as_user), project, deleted=deleted)
    emit(rows, fmt, ["id", "name", "current_version", "version_author", "updated_at", "tags"])


def _read(file: Path) -> str:
    """A script file (or standard input) as strict UTF-8, within max_sql_bytes."""
    settings = current_settings()
    if str(file) == "-":
        return intake.read_stream(sys.stdin.buffer, settings)
    return intake.read_text_file(file, settings)


@script_app.command("save")
def script_save(
    project: str,
    name: str,
    file: Path = typer.Option(..., "-f", "--file", help="SQL file (- for stdin)."),
    message: str = typer.Option("", "-m", "--message"),
    base: int | None = typer.Option(
        None, "--base", help="The version you edited (conflict check)."
    ),
    description: str | None = typer.Option(None, "--description"),
    tags: str | None = typer.Option(None, "--tags", help="Comma-separated."),
    connection: str | None = typer.Option(None, "--connection", help="Default connection."),
    as_user: str | None = AS,
) -> None:
    """Save a file as the next version of a script (created on first save)."""
    content = _read(file)
    with runtime() as rt:
        try:
            result = scripts.save(
                rt,
                actor(rt, as_user),
                project,
                name,
                content,
                message,
                base_version=base,
                description=description,
                tags=tags,
                default_connection=connection,
            )
        except EditConflict as exc:
            typer.echo(exc.diff, err=True)
            raise
    if result.created:
        typer.echo(f"{name} v{result.version} saved")
    else:
        typer.echo(f"{name} unchanged (v{result.version})")


@script_app.command("show")
def script_show(
    project: str,
    name: str,
    version: int | None = typer.Option(None, "--version", "-v"),
    as_user: str | None = AS,
) -> None:
    """Print a version's SQL (the latest by default)."""
    with runtime() as rt:
        found = versions.version(rt, actor(rt, as_user), project, name, version)
    typer.echo(found.content)


@script_app.command("history")
def script_history(project: str, name: str, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Every version of a script: who, when, message, hash."""
    with runtime() as rt:
        rows = versions.history(rt, actor(rt, as_user), project, name)
    if fmt == "json":
        emit_json(rows)
        return
    emit_table(
        [{**r.__dict__, "content_hash": r.content_hash[:12]} for r in rows],
        ["version", "author", "created_at", "message", "content_hash"],
    )


@script_app.command("diff")
def script_diff(
    project: str,
    name: str,
    v1: int,
    v2: int,
    side_by_side: bool = typer.Option(False, "--side-by-side", "-y"),
    as_user: str | None = AS,
) -> None:
    """The difference between two versions (unified, or side by side)."""
    with runtime() as rt:
        found = versions.diff(rt, actor(rt, as_user), project, name, v1, v2)
    if not side_by_side:
        typer.echo(found.unified or "(no difference)")
        return
    width = max([len(r.left) for r in found.rows] + [20])
    marks = {"equal": " ", "replace": "|", "insert": ">", "delete": "<"}
    for r in found.rows:
        typer.echo(f"{r.left.ljust(width)} {marks[r.tag]} {r.right}".rstrip())


@script_app.command("revert")
def script_revert(
    project: str,
    name: str,
    version: int,
    message: str | None = typer.Option(None, "-m", "--message"),
    as_user: str | None = AS,
) -> None:
    """Save an old version's content as a new version."""
    with runtime() as rt:
        result = versions.revert(rt, actor(rt, as_user), project, name, version, message)
    typer.echo(f"{name} v{result.version} saved (content of v{version})")


@script_app.command("delete")
def script_delete(project: str, name: str, as_user: str | None = AS) -> None:
    """Soft-delete a script (restore brings it back with every version)."""
    with runtime() as rt:
        scripts.delete(rt, actor(rt, as_user), project, name)
    typer.echo(f"{name} deleted (restorable)")


@script_app.command("restore")
def script_restore(project: str, name: str, as_user: str | None = AS) -> None:
    """Restore the most recently deleted script with this name."""
    with runtime() as rt:
        scripts.restore(rt, actor(rt, as_user), project, name)
    typer.echo(f"{name} restored")


@script_app.command("run")
def script_run(
    project: str,
    name: str,
    version: int | None = typer.Option(None, "--version", "-v", help="Default: the latest."),
    connection: str | None = typer.Option(None, "--connection", help="Default: the script's."),
    yes: bool = typer.Option(False, "--yes", help="Confirm destructive statements."),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Run a version of a script through the safe engine; the run links that version."""
    with runtime() as rt:
        try:
            run = runs.run_script(
                rt,
                actor(rt, as_user),
                project,
                name,
                version=version,
                connection=connection,
                confirmed=yes,
            )
        finally:
            engine.close(rt)
    typer.echo(f"{name} v{run.version.version} on {run.connection}", err=True)
    for query in run.result.results:
        rows = [dict(zip(query.columns, row, strict=True)) for row in query.rows]
        if fmt == "json":
            emit_json(rows)
        elif query.columns:
            emit_table(rows, list(query.columns))
        typer.echo(f"{query.command_tag} ({query.elapsed_ms:.1f} ms)", err=True)
    run.result.raise_for_error()


@script_app.command("runs")
def script_runs(
    project: str,
    name: str,
    version: int | None = typer.Option(None, "--version", "-v"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Run history of a script or one version: who, when, where, duration, outcome."""
    with runtime() as rt:
        rows = runs.runs(rt, actor(rt, as_user), project, name, version=version)
    emit(
        rows,
        fmt,
        [
            "started_at",
            "username",
            "connection",
            "version",
            "outcome",
            "duration_ms",
            "rows_affected",
        ],
    )
