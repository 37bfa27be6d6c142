"""CLI commands for security: passwords, TOTP, key rotation, audit export and reconciliation.

They join the `user`, `keys` and `audit` groups of `cli/admin.py` and act as `--as USER`
(default: the first admin) through the same services and row level security as the UI.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from petcare_dba.cli.admin import audit_app, keys_app, user_app
from petcare_dba.cli.common import actor, emit_json, one_of, read_secret, runtime
from petcare_dba.errors import ValidationError
from petcare_dba.services.security import audit, audit_export, keys, totp, users

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
totp_app = typer.Typer(no_args_is_help=True, help="Second factor (TOTP) for a user.")


def parse_since(text: str | None) -> datetime | None:
    """An ISO date/time, or a relative span like 30m, 12h, 7d."""
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"cannot read {text!r} as a date; use 2026-01-31 or 12h") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_passwd(name: str, as_user: str | None = AS) -> None:
    """Set a user's password (prompt or PETCARE_NEW_PASSWORD); ends all their sessions."""
    password = read_secret(f"New password for {name}", "PETCARE_NEW_PASSWORD")
    with runtime() as rt:
        revoked = users.set_password(rt, actor(rt, as_user), name, password)
    typer.echo(f"password of {name} changed; {revoked} session(s) revoked")


def totp_enable(name: str, as_user: str | None = AS) -> None:
    """Turn on TOTP for a user and print the enrolment URI once (hand it over securely)."""
    with runtime() as rt:
        enrolment = totp.enable(rt, actor(rt, as_user), name)
    typer.echo(f"TOTP enabled for {enrolment.username}; add this to an authenticator app:")
    typer.echo(enrolment.uri)


def totp_disable(name: str, as_user: str | None = AS) -> None:
    """Turn off TOTP for a user."""
    with runtime() as rt:
        totp.disable(rt, actor(rt, as_user), name)
    typer.echo(f"TOTP disabled for {name}")


def keys_rotate(
    new_key_file: Path | None = typer.Option(
        None, help="Write the new key here (required when PETCARE_SECRET_KEY is used)."
    ),
    reseal: bool = typer.Option(
        False,
        "--reseal",
        help="Also re-encrypt every connection, alert channel secret and sealed setting under a "
        "new data key.",
    ),
    as_user: str | None = AS,
) -> None:
    """Rewrap every data key under a new secret key; the old key stops working."""
    with runtime() as rt:
        result = keys.rotate(rt, actor(rt, as_user), new_key_file=new_key_file, reseal=reseal)
    typer.echo(
        f"rotated: {result.rewrapped_versions} data key(s) rewrapped, "
        f"{result.resealed_connections} connection(s), {result.resealed_channels} alert "
        f"channel secret(s) and {result.resealed_settings} sealed setting(s) re-sealed; "
        f"new key in {result.key_file} "
        f"(id {result.kek_id}). Restart every app instance."
    )


def audit_export_cmd(
    fmt: str = typer.Option(
        "jsonl", "--format", help="csv or jsonl", callback=one_of("csv", "jsonl")
    ),
    since: str | None = typer.Option(None, help="ISO date/time or 30m/12h/7d."),
    until: str | None = typer.Option(None, help="ISO date/time or 30m/12h/7d."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),
    limit: int = typer.Option(100_000, help="At most this many rows."),
    as_user: str | None = AS,
) -> None:
    """Export the audit rows you may see as CSV or JSONL (oldest first)."""
    with runtime() as rt:
        who = actor(rt, as_user)
        entries = audit.search(
            rt.store, who, since=parse_since(since), until=parse_since(until), limit=limit
        )
        text = audit_export.render(entries, fmt)
        audit.record(
            rt.store, who, "audit.export", "ok", detail={"format": fmt, "rows": len(entries)}
        )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{len(entries)} rows written to {output}")


def audit_reconcile_cmd(
    minutes: int | None = typer.Option(None, help="Age of orphaned intents (default setting)."),
    as_user: str | None = AS,
) -> None:
    """Mark intents that never got an outcome (the process died) as 'unknown'."""
    with runtime() as rt:
        age = minutes if minutes is not None else rt.settings.audit_reconcile_minutes
        count = audit.reconcile(rt.store, actor(rt, as_user), age)
    typer.echo(f"{count} orphaned intent(s) marked unknown")


def audit_export_head_cmd(
    directory: Path | None = typer.Option(None, "--dir", help="Default: audit_head_dir."),
    as_user: str | None = AS,
) -> None:
    """Append the audit chain head to append-only storage (run hourly from cron)."""
    with runtime() as rt:
        target = directory or audit_export.heads_dir(rt.settings)
        head = audit_export.export_head(rt.store, actor(rt, as_user), target)
    typer.echo(f"chain head {head.last_seq} {head.last_hash} appended to {target}")


def audit_check_heads_cmd(
    path: Path | None = typer.Argument(None, help="Heads file or directory."),
    as_user: str | None = AS,
) -> None:
    """Check that every exported chain head is still in the log; exit 1 if not."""
    with runtime() as rt:
        target = path or audit_export.heads_dir(rt.settings)
        result = audit_export.check_heads(rt.store, actor(rt, as_user), target)
    if result.ok:
        typer.echo(f"ok: {result.checked} exported head(s) match the log")
    else:
        typer.echo(f"MISMATCH at chain_seq {result.first_mismatch_seq}: {result.reason}")
        raise typer.Exit(1)


def audit_events_cmd(
    since: str = typer.Option("24h", help="ISO date/time or 30m/12h/7d."),
    as_user: str | None = AS,
) -> None:
    """Security events: failed-login bursts, lockouts, refused-statement bursts, chain breaks."""
    with runtime() as rt:
        events = audit.security_events(
            rt.store, actor(rt, as_user), parse_since(since) or timedelta(hours=24)
        )
    emit_json(events)


def register(app: typer.Typer) -> None:
    """Attach the commands to the `user`, `keys` and `audit` groups (added by cli/admin.py)."""
    del app  # the groups are already on the app
    user_app.command("passwd")(user_passwd)
    totp_app.command("enable")(totp_enable)
    totp_app.command("disable")(totp_disable)
    user_app.add_typer(totp_app, name="totp")
    keys_app.command("rotate")(keys_rotate)
    audit_app.command("export")(audit_export_cmd)
    audit_app.command("reconcile")(audit_reconcile_cmd)
    audit_app.command("export-head")(audit_export_head_cmd)
    audit_app.command("check-heads")(audit_check_heads_cmd)
    audit_app.command("events")(audit_events_cmd)
