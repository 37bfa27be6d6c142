"""CLI commands for administration: users, connections, audit, keys.

Each command acts as `--as USER` (default: the first admin) through the same services and row
level security as the UI, so the CLI can do nothing the user could not do in the browser.
"""

from __future__ import annotations

import typer

from petcare_dba.cli.common import actor, emit, emit_json, one_of, read_secret, runtime
from petcare_dba.services import audit, connections, crypto, users

user_app = typer.Typer(no_args_is_help=True, help="Manage app users.")
conn_app = typer.Typer(no_args_is_help=True, help="Manage target connections.")
audit_app = typer.Typer(no_args_is_help=True, help="Read and verify the audit log.")
keys_app = typer.Typer(no_args_is_help=True, help="Secret keys.")

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
FMT = typer.Option("table", "--format", help="table or json", callback=one_of("table", "json"))


@user_app.command("add")
def user_add(
    name: str,
    role: str = typer.Option(..., help="admin, dba, analyst or viewer"),
    display_name: str = "",
    email: str | None = None,
    as_user: str | None = AS,
) -> None:
    """Create a user (password from a prompt or PETCARE_NEW_PASSWORD)."""
    password = read_secret(f"Password for {name}", "PETCARE_NEW_PASSWORD")
    with runtime() as rt:
        users.add_user(
            rt, actor(rt, as_user), name, role, password, display_name=display_name, email=email
        )
    typer.echo(f"user {name} created with role {role}")


@user_app.command("list")
def user_list(fmt: str = FMT, as_user: str | None = AS) -> None:
    """List users."""
    with runtime() as rt:
        rows = users.list_users(rt, actor(rt, as_user))
    emit(rows, fmt, ["username", "role", "disabled", "display_name", "email", "created_at"])


@user_app.command("set-role")
def user_set_role(name: str, role: str, as_user: str | None = AS) -> None:
    """Change a user's role."""
    with runtime() as rt:
        users.set_role(rt, actor(rt, as_user), name, role)
    typer.echo(f"user {name} is now {role}")


@user_app.command("disable")
def user_disable(name: str, as_user: str | None = AS) -> None:
    """Disable a user (their sessions end at once)."""
    with runtime() as rt:
        users.set_disabled(rt, actor(rt, as_user), name, True)
    typer.echo(f"user {name} disabled")


@user_app.command("enable")
def user_enable(name: str, as_user: str | None = AS) -> None:
    """Re-enable a disabled user."""
    with runtime() as rt:
        users.set_disabled(rt, actor(rt, as_user), name, False)
    typer.echo(f"user {name} enabled")


@user_app.command("unlock")
def user_unlock(name: str, as_user: str | None = AS) -> None:
    """Clear a login lockout."""
    with runtime() as rt:
        users.unlock(rt, actor(rt, as_user), name)
    typer.echo(f"user {name} unlocked")


@user_app.command("recover-admin")
def user_recover_admin(
    name: str,
    new_password: bool = typer.Option(
        False, "--new-password", help="Also set a new generated password (shown once)."
    ),
) -> None:
    """Break-glass: make NAME an enabled admin again (created when missing).

    Works without any admin, for whoever holds the data directory (or database_url with the
    store's admin credentials and the secret key).
    """
    with runtime() as rt:
        password = users.recover_admin(rt, name, new_password=new_password)
    typer.echo(f"user {name} is an enabled admin")
    if password:
        typer.echo(f"password for {name}: {password}  (shown once: change it after signing in)")


@conn_app.command("add")
def conn_add(
    name: str,
    url: str,
    read_only: bool = typer.Option(False, "--read-only"),
    shared: bool = typer.Option(False, "--shared", help="Visible to every user."),
    description: str = "",
    as_user: str | None = AS,
) -> None:
    """Register a target database (the URL is stored encrypted, never printed)."""
    with runtime() as rt:
        connections.add(
            rt,
            actor(rt, as_user),
            name,
            url,
            read_only=read_only,
            shared=shared,
            description=description,
        )
    typer.echo(f"connection {name} added")


@conn_app.command("list")
def conn_list(fmt: str = FMT, as_user: str | None = AS) -> None:
    """List the connections you may use (URLs without passwords)."""
    with runtime() as rt:
        rows = connections.list_connections(rt, actor(rt, as_user))
    emit(rows, fmt, ["name", "display_url", "read_only", "shared", "owner"])


@conn_app.command("test")
def conn_test(name: str, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Connect and report version, size and tables; exit 1 when it fails."""
    with runtime() as rt:
        result = connections.check(rt, actor(rt, as_user), name)
    if fmt == "json":
        emit_json(result)
    else:
        emit(
            [result],
            "table",
            ["name", "ok", "server_version", "database", "table_count", "latency_ms", "error"],
        )
    if not result.ok:
        raise typer.Exit(1)


@conn_app.command("remove")
def conn_remove(name: str, as_user: str | None = AS) -> None:
    """Delete a connection."""
    with runtime() as rt:
        connections.remove(rt, actor(rt, as_user), name)
    typer.echo(f"connection {name} removed")


@audit_app.command("list")
def audit_list(
    limit: int = 50,
    action: str | None = None,
    outcome: str | None = None,
    user: str | None = None,
    fmt: str = FMT,
    as_user: str | None = AS,
) -> None:
    """Newest audit events you may see."""
    with runtime() as rt:
        rows = audit.recent(
            rt.store, actor(rt, as_user), limit=limit, action=action, outcome=outcome, username=user
        )
    emit(rows, fmt, ["chain_seq", "at", "username", "action", "outcome", "target", "sqlstate"])


@audit_app.command("verify")
def audit_verify(fmt: str = FMT, as_user: str | None = AS) -> None:
    """Walk the hash chain; exit 1 and name the first broken row if it was altered."""
    with runtime() as rt:
        status = audit.verify(rt.store, actor(rt, as_user))
    if fmt == "json":
        emit_json(status)
    elif status.ok:
        typer.echo(f"ok: {status.checked} rows, chain intact")
    else:
        typer.echo(f"BROKEN at chain_seq {status.first_broken_seq}: {status.reason}")
    if not status.ok:
        raise typer.Exit(1)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random secret key (for PETCARE_SECRET_KEY)."""
    typer.echo(crypto.generate_key())


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(conn_app, name="connection")
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
