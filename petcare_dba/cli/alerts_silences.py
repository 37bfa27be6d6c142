"""CLI of silences and maintenance windows: `petcare-dba alerts silence|maintenance ...`.

`silence add [--rule R] [--connection C] [--severity S] (--for 2h | --until ISO) --reason T`
holds back matching notifications (events are still recorded); `maintenance add --connection C
--reason T` with `--start/--end` (one-off, ISO times) or `--at HH:MM --minutes N [--day 1..7]
[--tz Zone]` (weekly). `list` shows them (`--all` includes past ones), `remove ID` ends one.
dbas manage them for connections they can use, admins for anything; each change is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import typer

from petcare_dba.cli.common import actor, emit, one_of, runtime
from petcare_dba.errors import ValidationError
from petcare_dba.services.alerts import silences

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option(
    "table", "--format", "-f", help="table or json.", callback=one_of("table", "json")
)
ALL = typer.Option(False, "--all", help="Include silences and windows that are over.")
REASON = typer.Option(..., "--reason", help="Why (shown on the alerts page and audited).")
silence_app = typer.Typer(no_args_is_help=True, help="Silences: alerts recorded, not delivered.")
maintenance_app = typer.Typer(
    no_args_is_help=True, help="Maintenance windows of a connection (one-off or weekly)."
)


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"{option}: not an ISO date and time: {text!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@silence_app.command("add")
def silence_add(
    reason: str = REASON,
    rule: str | None = typer.Option(None, "--rule"),
    connection: str | None = typer.Option(None, "--connection", "-c"),
    severity: str | None = typer.Option(None, "--severity"),
    for_: str | None = typer.Option(None, "--for", help="How long: 30m, 2h, 1d."),
    until: str | None = typer.Option(None, "--until", help="End (ISO), instead of --for."),
    as_user: str | None = AS,
) -> None:
    """Silence matching alerts from now until --until or for --for."""
    if (for_ is None) == (until is None):
        raise ValidationError("give exactly one of --for and --until")
    end = _when(until, "--until") or datetime.now(UTC) + silences.parse_duration(str(for_))
    with runtime() as rt:
        silence_id = silences.add_silence(
            rt,
            actor(rt, as_user),
            ends_at=end,
            reason=reason,
            rule=rule,
            connection=connection,
            severity=severity,
        )
    typer.echo(f"silence {silence_id} added until {end.isoformat(timespec='seconds')}")


@silence_app.command("list")
def silence_list(include_past: bool = ALL, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Silences, newest first."""
    with runtime() as rt:
        found = silences.list_silences(rt, actor(rt, as_user), include_past=include_past)
    columns = ["id", "rule", "connection", "severity", "starts_at", "ends_at", "active", "reason"]
    emit(found, fmt, [*columns, "created_by"])


@silence_app.command("remove")
def silence_remove(silence_id: int, as_user: str | None = AS) -> None:
    """End a silence now."""
    with runtime() as rt:
        silences.remove_silence(rt, actor(rt, as_user), silence_id)
    typer.echo(f"silence {silence_id} removed")


@maintenance_app.command("add")
def maintenance_add(
    connection: str = typer.Option(..., "--connection", "-c"),
    reason: str = REASON,
    start: str | None = typer.Option(None, "--start", help="One-off: start (ISO; default now)."),
    end: str | None = typer.Option(None, "--end", help="One-off: end (ISO)."),
    at: str | None = typer.Option(None, "--at", help="Weekly: local start time HH:MM."),
    minutes: int | None = typer.Option(None, "--minutes", help="Weekly: duration."),
    day: list[int] = typer.Option([], "--day", help="Weekly: ISO weekday 1-7 (repeat)."),
    tz: str = typer.Option("UTC", "--tz", help="Weekly: IANA time zone."),
    as_user: str | None = AS,
) -> None:
    """Add a maintenance window: --end (one-off) or --at and --minutes (weekly)."""
    if (at is None) == (end is None):
        raise ValidationError("give --end for a one-off window or --at for a weekly one")
    try:
        start_time = time.fromisoformat(at) if at else None
    except ValueError as exc:
        raise ValidationError(f"--at: not a time of day: {at!r}") from exc
    with runtime() as rt:
        window_id = silences.add_maintenance(
            rt,
            actor(rt, as_user),
            connection,
            reason=reason,
            starts_at=_when(start, "--start"),
            ends_at=_when(end, "--end"),
            days=list(day),
            start_time=start_time,
            duration_minutes=minutes,
            tz=tz,
        )
    typer.echo(f"maintenance window {window_id} added")


@maintenance_app.command("list")
def maintenance_list(include_past: bool = ALL, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Maintenance windows, newest first."""
    with runtime() as rt:
        found = silences.list_maintenance(rt, actor(rt, as_user), include_past=include_past)
    columns = ["id", "connection", "recurring", "starts_at", "ends_at", "days", "start_time"]
    emit(found, fmt, [*columns, "duration_minutes", "tz", "active", "reason"])


@maintenance_app.command("remove")
def maintenance_remove(window_id: int, as_user: str | None = AS) -> None:
    """Remove a maintenance window."""
    with runtime() as rt:
        silences.remove_maintenance(rt, actor(rt, as_user), window_id)
    typer.echo(f"maintenance window {window_id} removed")
