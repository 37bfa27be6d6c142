"""CLI of monitoring: `collect`, `advisor` and `alerts`.

`petcare-dba collect [--once]` samples every stored connection (the same leader-elected rounds
as the app's background collector; without --once it loops every monitoring_interval_s until
Ctrl+C). `petcare-dba advisor [--connection C] [--format table|json] [--fail-on error|warn]`
runs the lints and stores the run; with --fail-on it exits 1 when findings of that level (or
worse) exist, for CI pipelines. `petcare-dba alerts list|rules|ack|set-rule|add-webhook|
add-email|test` manages alerting. Register with `monitoring.register(app)`.
"""

from __future__ import annotations

import time

import typer

from petcare_dba.cli.common import actor, emit, emit_json, one_of, runtime, secret_url
from petcare_dba.errors import ValidationError
from petcare_dba.services import advisor, alerts, connections
from petcare_dba.services.alerts import channels
from petcare_dba.services.monitoring import collector

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option(
    "table", "--format", "-f", help="table or json.", callback=one_of("table", "json")
)
alerts_app = typer.Typer(no_args_is_help=True, help="Alert rules, history and channels.")


def _fmt(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise ValidationError(f"--format must be table or json, not {fmt!r}")


def collect_cmd(
    once: bool = typer.Option(False, "--once", help="One round, then exit."),
    force: bool = typer.Option(False, "--force", help="Sample even if sampled moments ago."),
    fmt: str = FMT,
) -> None:
    """Sample every connection (one leader per connection across app instances)."""
    _fmt(fmt)
    with runtime() as rt:
        while True:
            rounds = collector.collect_once(rt, force=force)
            rows = [
                {
                    "connection": r.connection,
                    "sampled": r.sampled,
                    "metrics": len(r.metrics),
                    "statements": r.statements,
                    "alerts": ", ".join(r.alerts),
                    "note": r.error or r.skipped or ", ".join(r.reset_groups),
                }
                for r in rounds
            ]
            emit(rows, fmt)
            if once:
                return
            time.sleep(float(rt.settings.monitoring_interval_s))


def advisor_cmd(
    connection: str | None = typer.Option(
        None, "--connection", "-c", help="Stored connection (default: every visible one)."
    ),
    fmt: str = FMT,
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when findings at this level exist: error or warn."
    ),
    as_user: str | None = AS,
) -> None:
    """Run the advisor's lints, store the run, and print the findings."""
    _fmt(fmt)
    if fail_on not in (None, "error", "warn"):
        raise ValidationError("--fail-on must be error or warn")
    with runtime() as rt:
        who = actor(rt, as_user)
        names = (
            [connection] if connection else [c.name for c in connections.list_connections(rt, who)]
        )
        rows, unavailable = [], []
        for name in names:
            result = advisor.run_and_store(rt, who, name)
            rows += [{"connection": name, **f.__dict__} for f in result.findings]
            unavailable += [
                {"connection": name, "lint": n, "error": e} for n, e in result.unavailable
            ]
    if fmt == "json":
        emit_json({"findings": rows, "unavailable": unavailable})
    else:
        emit(rows, fmt, ["connection", "level", "name", "object", "detail"])
        for u in unavailable:
            typer.echo(f"unavailable: {u['connection']} {u['lint']}: {u['error']}", err=True)
    failing = {"error": ("ERROR",), "warn": ("ERROR", "WARN")}.get(fail_on or "", ())
    if any(r["level"] in failing for r in rows):
        raise typer.Exit(1)


@alerts_app.command("list")
def alerts_list(
    state: str | None = typer.Option(None, "--state", help="firing or resolved."),
    connection: str | None = typer.Option(None, "--connection", "-c"),
    limit: int = typer.Option(100, "--limit"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Alert history, newest first."""
    _fmt(fmt)
    with runtime() as rt:
        events = alerts.history(
            rt, actor(rt, as_user), state=state, connection=connection, limit=limit
        )
    emit(
        events,
        fmt,
        [
            "id",
            "state",
            "severity",
            "rule",
            "connection",
            "value",
            "started_at",
            "resolved_at",
            "acknowledged_by",
        ],
    )


@alerts_app.command("rules")
def alerts_rules(fmt: str = FMT, as_user: str | None = AS) -> None:
    """Alert rules with thresholds."""
    _fmt(fmt)
    with runtime() as rt:
        rules = alerts.list_rules(rt, actor(rt, as_user))
    emit(
        rules,
        fmt,
        ["name", "metric", "comparator", "threshold", "duration_s", "severity", "scope", "enabled"],
    )


@alerts_app.command("set-rule")
def alerts_set_rule(
    name: str,
    threshold: float | None = typer.Option(None, "--threshold"),
    duration: int | None = typer.Option(None, "--duration", help="Seconds the condition lasts."),
    severity: str | None = typer.Option(None, "--severity"),
    enabled: bool | None = typer.Option(None, "--enabled/--disabled"),
    as_user: str | None = AS,
) -> None:
    """Change a rule (admins)."""
    with runtime() as rt:
        alerts.update_rule(
            rt,
            actor(rt, as_user),
            name,
            threshold=threshold,
            duration_s=duration,
            severity=severity,
            enabled=enabled,
        )
    typer.echo(f"rule {name} updated")


@alerts_app.command("ack")
def alerts_ack(event_id: int, as_user: str | None = AS) -> None:
    """Acknowledge a firing alert (dbas and admins)."""
    with runtime() as rt:
        alerts.acknowledge(rt, actor(rt, as_user), event_id)
    typer.echo(f"alert {event_id} acknowledged")


@alerts_app.command("add-webhook")
def alerts_add_webhook(
    name: str,
    url: str | None = typer.Argument(
        None, help="- to read the URL from standard input (else PETCARE_WEBHOOK_URL or a prompt)"
    ),
    as_user: str | None = AS,
) -> None:
    """Add a webhook channel (JSON POST); its URL is a secret, so never on the command line."""
    hook = secret_url(url, "PETCARE_WEBHOOK_URL", "webhook URL", "URL", whole_secret=True)
    with runtime() as rt:
        channels.add_webhook(rt, actor(rt, as_user), name, hook)
    typer.echo(f"channel {name} added")


@alerts_app.command("add-email")
def alerts_add_email(
    name: str,
    host: str = typer.Option(..., "--host"),
    port: int = typer.Option(25, "--port"),
    sender: str = typer.Option(..., "--from"),
    to: list[str] = typer.Option(..., "--to"),
    starttls: bool = typer.Option(False, "--starttls"),
    username: str = typer.Option("", "--username"),
    as_user: str | None = AS,
) -> None:
    """Add an e-mail channel (SMTP; password from PETCARE_SMTP_PASSWORD)."""
    with runtime() as rt:
        channels.add_email(
            rt,
            actor(rt, as_user),
            name,
            host=host,
            port=port,
            sender=sender,
            recipients=list(to),
            starttls=starttls,
            username=username,
            password=rt.settings.smtp_password,
        )
    typer.echo(f"channel {name} added")


@alerts_app.command("test")
def alerts_test(name: str, as_user: str | None = AS) -> None:
    """Send a test notification through a channel."""
    with runtime() as rt:
        result = channels.send_test(rt, actor(rt, as_user), name)
    if not result.ok:
        typer.echo(f"error: delivery failed: {result.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"test sent through {name}")


def register(app: typer.Typer) -> None:
    """Add `collect`, `advisor` and `alerts` to the CLI."""
    app.command("collect")(collect_cmd)
    app.command("advisor")(advisor_cmd)
    app.add_typer(alerts_app, name="alerts")
