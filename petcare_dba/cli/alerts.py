"""CLI of alerts: events, rules, channels, the outbox; silences and maintenance windows.

`petcare-dba alerts list|rules|ack|set-rule|test` as before; channels of every kind:
`add-webhook` (signed JSON; prints the HMAC signing secret once), `add-slack`, `add-teams`,
`add-discord` (the service's incoming-webhook URL), `add-pagerduty` (the routing key) and
`add-email`. A URL or key is a secret: it comes from standard input (`-`), an environment
variable or a hidden prompt, never from argv. `outbox` lists deliveries and `deliver` runs the
delivery job once; `silence add|list|remove` and `maintenance add|list|remove` live in
cli/alerts_silences.py.
"""

from __future__ import annotations

import typer

from petcare_dba.cli.alerts_silences import maintenance_app, silence_app
from petcare_dba.cli.common import actor, emit, one_of, runtime, secret_url
from petcare_dba.services import alerts
from petcare_dba.services.alerts import channels

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option(
    "table", "--format", "-f", help="table or json.", callback=one_of("table", "json")
)
SECRET_ARG = typer.Argument(
    None, help="- to read it from standard input (else the environment variable or a prompt)"
)
alerts_app = typer.Typer(
    no_args_is_help=True, help="Alert rules, history, channels, silences, maintenance."
)
alerts_app.add_typer(silence_app, name="silence")
alerts_app.add_typer(maintenance_app, name="maintenance")


@alerts_app.command("list")
def alerts_list(
    state: str | None = typer.Option(None, "--state", help="firing or resolved."),
    connection: str | None = typer.Option(None, "--connection", "-c"),
    limit: int = typer.Option(100, "--limit"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Alert history, newest first."""
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
    url: str | None = SECRET_ARG,
    as_user: str | None = AS,
) -> None:
    """Add a webhook channel (signed JSON POST); the URL never on the command line.

    Prints the signing secret once: the receiver checks X-Petcare-Signature, sha256=<hex> of
    HMAC-SHA256(secret, body) (docs/alerts.md).
    """
    hook = secret_url(url, "PETCARE_WEBHOOK_URL", "webhook URL", "URL", whole_secret=True)
    with runtime() as rt:
        key = channels.add_webhook(rt, actor(rt, as_user), name, hook)
    typer.echo(f"channel {name} added")
    typer.echo(f"signing secret (shown once): {key}")


def _add_service(kind: str, name: str, url: str | None, as_user: str | None) -> None:
    label = f"{kind} webhook URL"
    hook = secret_url(url, "PETCARE_CHANNEL_URL", label, "URL", whole_secret=True)
    with runtime() as rt:
        channels.add_service(rt, actor(rt, as_user), name, kind, hook)
    typer.echo(f"channel {name} added")


@alerts_app.command("add-slack")
def alerts_add_slack(name: str, url: str | None = SECRET_ARG, as_user: str | None = AS) -> None:
    """Add a Slack channel from its incoming-webhook URL (stdin, PETCARE_CHANNEL_URL, prompt)."""
    _add_service("slack", name, url, as_user)


@alerts_app.command("add-teams")
def alerts_add_teams(name: str, url: str | None = SECRET_ARG, as_user: str | None = AS) -> None:
    """Add a Microsoft Teams channel from its Power Automate workflow URL."""
    _add_service("teams", name, url, as_user)


@alerts_app.command("add-discord")
def alerts_add_discord(name: str, url: str | None = SECRET_ARG, as_user: str | None = AS) -> None:
    """Add a Discord channel from its webhook URL."""
    _add_service("discord", name, url, as_user)


@alerts_app.command("add-pagerduty")
def alerts_add_pagerduty(
    name: str,
    key: str | None = SECRET_ARG,
    region: str = typer.Option("us", "--region", callback=one_of("us", "eu")),
    source: str = typer.Option("petcare-dba", "--source"),
    as_user: str | None = AS,
) -> None:
    """Add a PagerDuty channel (Events API v2) from the routing key (PETCARE_PAGERDUTY_KEY)."""
    routing = secret_url(key, "PETCARE_PAGERDUTY_KEY", "routing key", "KEY", whole_secret=True)
    with runtime() as rt:
        channels.add_pagerduty(rt, actor(rt, as_user), name, routing, region=region, source=source)
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


@alerts_app.command("outbox")
def alerts_outbox(
    state: str | None = typer.Option(None, "--state", help="pending, delivered, dead, ..."),
    limit: int = typer.Option(100, "--limit"),
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Deliveries in the outbox, newest first (admins)."""
    with runtime() as rt:
        found = alerts.outbox.rows(rt, actor(rt, as_user), state=state, limit=limit)
    emit(
        found,
        fmt,
        ["id", "event_id", "kind", "channel", "state", "attempts", "next_attempt_at", "last_error"],
    )


@alerts_app.command("deliver")
def alerts_deliver(fmt: str = FMT) -> None:
    """Run the delivery job once: send every due outbox row (safe beside running instances)."""
    with runtime() as rt:
        report = alerts.deliver_due(rt)
    emit([report], fmt)


@alerts_app.command("test")
def alerts_test(name: str, as_user: str | None = AS) -> None:
    """Send a test notification through a channel."""
    with runtime() as rt:
        result = channels.send_test(rt, actor(rt, as_user), name)
    if not result.ok:
        typer.echo(f"error: delivery failed: {result.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"test sent through {name}")
