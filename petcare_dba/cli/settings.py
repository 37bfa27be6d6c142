"""CLI commands for settings: show every one, and list, set and reset those editable at run time.

`petcare-dba settings` (no sub-command) prints the configured settings as before, without the
store. `settings list|set|reset` act as `--as USER` (default: the first admin) through
services/settings_admin.py, like the Settings page. A secret is never taken from the command line
(argv is visible in `ps` and stays in shell history): it comes from PETCARE_SETTING_VALUE or a
hidden prompt.
"""

from __future__ import annotations

import typer

from petcare_dba import settings as settings_mod
from petcare_dba.cli.common import actor, current_settings, emit, one_of, read_secret, runtime
from petcare_dba.services import settings_admin

VALUE_ENV = "PETCARE_SETTING_VALUE"  # the variable a secret value comes from
AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")

settings_app = typer.Typer(
    invoke_without_command=True,
    help="Show settings; list, set and reset those an admin may change at run time.",
)


@settings_app.callback()
def show(
    ctx: typer.Context,
    fmt: str = typer.Option(
        "table",
        "--format",
        help="table, json or markdown",
        callback=one_of("table", "json", "markdown"),
    ),
) -> None:
    """Show every setting, its value (secrets as set/unset) and where it came from."""
    if ctx.invoked_subcommand is not None:
        return
    if fmt == "markdown":
        typer.echo(settings_mod.markdown())
        return
    emit(current_settings().describe(), fmt, ["name", "value", "source", "env"])


@settings_app.command("list")
def list_cmd(
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    as_user: str | None = AS,
) -> None:
    """The settings editable at run time: value, default, source, locked, who changed it."""
    with runtime() as rt:
        rows = settings_admin.list_editable(rt, actor(rt, as_user))
    emit(rows, fmt, ["name", "value", "default", "source", "locked", "updated_by"])


@settings_app.command("set")
def set_cmd(
    name: str,
    value: str | None = typer.Argument(None, help=f"The value; secrets: {VALUE_ENV} or a prompt."),
    as_user: str | None = AS,
) -> None:
    """Set a setting at run time (admins): checked, audited, applied on every instance."""
    decl = settings_admin.editable(name)
    if decl.secret:
        if value is not None:
            typer.echo(
                f"error: refusing the value of secret setting {name} on the command line "
                "(other users see it in `ps`, and it stays in shell history)",
                err=True,
            )
            typer.echo(f"hint: set {VALUE_ENV} or answer the prompt instead", err=True)
            raise typer.Exit(2)
        value = read_secret(f"Value of {name}", VALUE_ENV)
    elif value is None:
        raise typer.BadParameter(f"{name} needs a value")
    with runtime() as rt:
        settings_admin.set_value(rt, actor(rt, as_user), name, value)
    typer.echo(f"{name} set; it applies on every instance")


@settings_app.command("reset")
def reset_cmd(name: str, as_user: str | None = AS) -> None:
    """Drop the run-time value of a setting (admins): back to the configured one, audited."""
    with runtime() as rt:
        changed = settings_admin.reset(rt, actor(rt, as_user), name)
    typer.echo(f"{name} reset" if changed else f"{name} had no run-time value")


def register(app: typer.Typer) -> None:
    app.add_typer(settings_app, name="settings")
