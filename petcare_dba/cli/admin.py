"""CLI commands for administration: users, connections, audit, keys.

Each command acts as `--as USER` (default: the first admin) through the same services and row
level security as the UI, so the CLI can do nothing the user could not do in the browser.
"""

from __future__ import annotations

import typer

from petcare_dba.cli.common import (
    actor,
    emit,
    emit_json,
    one_of,
    read_secret,
    runtime,
    secret_url,
)
from petcare_dba.services import connections, crypto
from petcare_dba.services.security import audit, users

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
    url: str | None = typer.Argument(
        None,
        help="URL without a password, or - to read it from stdin (else PETCARE_CONNECTION_URL "
        "or a prompt). A URL with a password on the command line is refused.",
    ),
    read_url: str | None = typer.Option(
        None,
        "--read-url",
        help="Least-privilege credential for viewers and the assistant: - (stdin) or a URL "
        "without a password; PETCARE_CONNECTION_READ_URL is read when --with-read-url is set.",
    ),
    with_read_url: bool = typer.Option(
        False, "--with-read-url", help="Also ask for a read-only URL (env or prompt)."
    ),
    read_only: bool = typer.Option(False, "--read-only"),
    shared: bool = typer.Option(False, "--shared", help="Visible to every user."),
    ambient: bool = typer.Option(
        False,
        "--ambient-credentials",
        help="Admin: let libpq use the app's PG* variables, .pgpass and service files.",
    ),
    allow_stats: bool = typer.Option(
        False, "--allow-stats", help="Admin: the read path may be a member of pg_monitor."
    ),
    description: str = "",
    as_user: str | None = AS,
) -> None:
    """Register a target database (the URLs are stored encrypted, never printed)."""
    main_url = secret_url(url, "PETCARE_CONNECTION_URL", "connection URL", "the URL argument")
    second = None
    if read_url is not None or with_read_url:
        second = secret_url(
            read_url, "PETCARE_CONNECTION_READ_URL", "read-only connection URL", "--read-url"
        )
    with runtime() as rt:
        who = actor(rt, as_user)
        connections.add(
            rt,
            who,
            name,
            main_url,
            read_only=read_only,
            shared=shared,
            description=description,
            read_url=second,
            ambient_credentials=ambient,
            allow_stats=allow_stats,
        )
        result = connections.check(rt, who, name)
    typer.echo(f"connection {name} added")
    _say_what_credentials_can_do(result)


def _say_what_credentials_can_do(result: connections.ConnectionCheck) -> None:
    if not result.ok:
        typer.echo(f"could not check the credentials: {result.error}")
        return
    typer.echo(f"main credential: {result.primary_can}")
    if result.read_can:
        typer.echo(f"read-only credential: {result.read_can}")
    for problem in result.read_path_problems:
        typer.echo(f"warning: viewers and the assistant are refused: {problem}")
    if result.read_path_problems:
        typer.echo(
            f"hint: add a least-privilege role: petcare-dba connection set-read {result.name} -"
        )


@conn_app.command("set-read")
def conn_set_read(
    name: str,
    url: str | None = typer.Argument(
        None, help="Read-only URL: - (stdin), else PETCARE_CONNECTION_READ_URL or a prompt."
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the read-only credential."),
    as_user: str | None = AS,
) -> None:
    """Set the least-privilege credential viewers, read-only runs and the assistant use."""
    read_url = None
    if not clear:
        read_url = secret_url(
            url, "PETCARE_CONNECTION_READ_URL", "read-only connection URL", "the URL argument"
        )
    with runtime() as rt:
        who = actor(rt, as_user)
        connections.set_read_credential(rt, who, name, read_url)
        result = connections.check(rt, who, name)
    typer.echo(f"connection {name}: read-only credential {'removed' if clear else 'set'}")
    _say_what_credentials_can_do(result)


@conn_app.command("set-policy")
def conn_set_policy(
    name: str,
    ambient: bool = typer.Option(
        False,
        "--ambient-credentials/--no-ambient-credentials",
        help="Let libpq use the app's PG* variables, .pgpass and service files.",
    ),
    allow_stats: bool = typer.Option(
        False, "--allow-stats/--no-allow-stats", help="Read path may be a member of pg_monitor."
    ),
    as_user: str | None = AS,
) -> None:
    """Admin: a connection's credential policy (audited)."""
    with runtime() as rt:
        connections.set_flags(
            rt, actor(rt, as_user), name, ambient_credentials=ambient, allow_stats=allow_stats
        )
    typer.echo(f"connection {name}: ambient credentials {ambient}, statistics {allow_stats}")


@conn_app.command("list")
def conn_list(fmt: str = FMT, as_user: str | None = AS) -> None:
    """List the connections you may use (URLs without passwords)."""
    with runtime() as rt:
        rows = connections.list_connections(rt, actor(rt, as_user))
    emit(rows, fmt, ["name", "display_url", "read_display_url", "read_only", "shared", "owner"])


@conn_app.command("test")
def conn_test(name: str, fmt: str = FMT, as_user: str | None = AS) -> None:
    """Connect, report version, size, tables and what each credential can do; exit 1 on failure."""
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
        if result.ok:
            _say_what_credentials_can_do(result)
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
