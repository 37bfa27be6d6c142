"""CLI of scheduled work: `petcare-dba schedule add|list|run-now|pause|resume|remove|history`.

`add NAME --kind backup --cron '0 3 * * *' [--tz Zone] -c CONN --schema S --table T
[--keep N] [--keep-days D]`, `--kind script --project P --script S [--version N] [--confirm]`
or `--kind advisor`. The `schedules` job of `petcare-dba worker` (or `up`) runs them; `run-now`
runs one at once in this process. Every change and run is audited; refusals exit 2.
"""

from __future__ import annotations

import typer

from petcare_dba.cli.common import actor, emit, one_of, runtime
from petcare_dba.services import schedules

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option(
    "table", "--format", "-f", help="table or json.", callback=one_of("table", "json")
)
schedule_app = typer.Typer(
    no_args_is_help=True, help="Scheduled backups, project script runs and advisor runs."
)
COLUMNS = ["id", "name", "kind", "cron", "tz", "owner", "connection", "what", "paused"]


@schedule_app.command("add")
def add_cmd(
    name: str,
    kind: str = typer.Option(..., "--kind", help="backup, script or advisor."),
    cron_expr: str = typer.Option(..., "--cron", help="minute hour day month weekday."),
    tz: str = typer.Option("UTC", "--tz", help="IANA time zone of the cron expression."),
    connection: str = typer.Option(..., "--connection", "-c"),
    schema: str | None = typer.Option(None, "--schema", help="backup: the table's schema."),
    table: str | None = typer.Option(None, "--table", help="backup: the table."),
    keep: int | None = typer.Option(None, "--keep", help="backup: keep the newest N."),
    keep_days: int | None = typer.Option(None, "--keep-days", help="backup: keep D days."),
    project: str | None = typer.Option(None, "--project", help="script: the project."),
    script: str | None = typer.Option(None, "--script", help="script: the script."),
    version: int | None = typer.Option(None, "--version", help="script: version (latest)."),
    confirm: bool = typer.Option(
        False, "--confirm", help="script: run a script that needs confirmation unattended."
    ),
    as_user: str | None = AS,
) -> None:
    """Add a schedule owned by the acting user."""
    with runtime() as rt:
        schedule_id = schedules.add(
            rt,
            actor(rt, as_user),
            name=name,
            kind=kind,
            cron_expr=cron_expr,
            tz=tz,
            connection=connection,
            schema=schema,
            table=table,
            keep_count=keep,
            keep_days=keep_days,
            project=project,
            script=script,
            version=version,
            confirmed=confirm,
        )
        due = schedules.get(rt, actor(rt, as_user), schedule_id).next_due_at
    typer.echo(f"schedule {schedule_id} added; next run {due.isoformat(timespec='seconds')}")


@schedule_app.command("list")
def list_cmd(fmt: str = FMT, as_user: str | None = AS) -> None:
    """The schedules you may see, with their next and latest runs."""
    with runtime() as rt:
        found = schedules.list_schedules(rt, actor(rt, as_user))
    rows = [{**s.__dict__, "what": s.what} for s in found]
    emit(rows, fmt, [*COLUMNS, "next_due_at", "last_status", "last_run_at", "last_error"])


@schedule_app.command("run-now")
def run_now_cmd(ref: str, as_user: str | None = AS) -> None:
    """Run a schedule now, here (its owner or an admin); exit 1 when the run failed."""
    with runtime() as rt:
        run = schedules.run_now(rt, actor(rt, as_user), ref)
    typer.echo(f"run {run.id}: {run.status}" + (f": {run.error}" if run.error else ""))
    if run.status != "ok":
        raise typer.Exit(1)


@schedule_app.command("pause")
def pause_cmd(ref: str, as_user: str | None = AS) -> None:
    """Stop a schedule's runs until resumed."""
    with runtime() as rt:
        schedules.pause(rt, actor(rt, as_user), ref)
    typer.echo(f"schedule {ref} paused")


@schedule_app.command("resume")
def resume_cmd(ref: str, as_user: str | None = AS) -> None:
    """Resume a paused schedule from its next tick (the paused time is not caught up)."""
    with runtime() as rt:
        schedules.resume(rt, actor(rt, as_user), ref)
    typer.echo(f"schedule {ref} resumed")


@schedule_app.command("remove")
def remove_cmd(ref: str, as_user: str | None = AS) -> None:
    """Delete a schedule and its history."""
    with runtime() as rt:
        schedules.remove(rt, actor(rt, as_user), ref)
    typer.echo(f"schedule {ref} removed")


@schedule_app.command("history")
def history_cmd(
    ref: str,
    limit: int = typer.Option(20, "--limit", "-n"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """A schedule's runs, newest first (json includes each run's result)."""
    with runtime() as rt:
        runs = schedules.history(rt, actor(rt, as_user), ref, limit)
    columns = ["id", "trigger", "missed", "started_at", "finished_at", "status", "error"]
    emit(runs, fmt, columns if fmt == "table" else None)


def register(app: typer.Typer) -> None:
    """Add `schedule` to the CLI."""
    app.add_typer(schedule_app, name="schedule")
