"""CLI of the MCP server: `petcare-dba mcp` serves stdio; `petcare-dba token ...` manages tokens.

`mcp` reads the API token from PETCARE_MCP_TOKEN (never from the command line, where `ps` would
show it) and serves the MCP protocol on standard input and output as that token's user; a
client such as Claude Desktop starts it as a subprocess. `token create NAME [--role R]
[--connection C ...] [--days N] [--as USER]` prints the token once; `token list` and `token
revoke ID` show and revoke the acting user's tokens (an admin's: everyone's).
"""

from __future__ import annotations

import typer

from petcare_dba.cli.common import actor, emit, emit_json, one_of, runtime
from petcare_dba.errors import AuthError

AS = typer.Option(None, "--as", help="Act as this user (default: the first admin).")
token_app = typer.Typer(no_args_is_help=True, help="Per-user API tokens of the MCP server.")


def mcp_cmd(
    token: str = typer.Option(
        "",
        envvar="PETCARE_MCP_TOKEN",  # mcp.server.TOKEN_ENV; the SDK loads only when used
        hidden=True,
        help="The API token (set PETCARE_MCP_TOKEN; not on the command line).",
    ),
) -> None:
    """Serve MCP over stdio as the user of the API token in PETCARE_MCP_TOKEN."""
    from petcare_dba.services import mcp  # the MCP SDK loads only for these commands

    if not token:
        raise AuthError("no API token: set PETCARE_MCP_TOKEN", hint="petcare-dba token create NAME")
    mcp.server.require_sdk()  # before opening the runtime: say what to install at once
    with runtime() as rt:
        mcp.server.serve_stdio(rt, token)


@token_app.command("create")
def create(
    name: str = typer.Argument(..., help="What the token is for (e.g. 'claude desktop')."),
    role: str | None = typer.Option(
        None, "--role", help="Highest role the token acts with (default: yours; never above)."
    ),
    connection: list[str] = typer.Option(
        [], "--connection", "-c", help="A connection the token may use (repeat; default: all)."
    ),
    days: int = typer.Option(30, "--days", help="Days until the token expires (1..365)."),
    fmt: str = typer.Option(
        "text", "--format", help="text or json", callback=one_of("text", "json")
    ),
    as_user: str | None = AS,
) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    from petcare_dba.services import mcp  # the MCP SDK loads only for these commands

    with runtime() as rt:
        made = mcp.tokens.create(
            rt,
            actor(rt, as_user),
            name,
            max_role=role,
            connection_names=tuple(connection),
            days=days,
        )
    if fmt == "json":
        emit_json({"id": made.id, "token": made.secret, "expires_at": made.expires_at})
        return
    typer.echo(made.secret)
    typer.echo(
        f"token {made.id}, expires {made.expires_at:%Y-%m-%d %H:%M %Z}; shown once, store it now",
        err=True,
    )


@token_app.command("list")
def list_cmd(
    fmt: str = typer.Option(
        "table", "--format", help="table or json", callback=one_of("table", "json")
    ),
    as_user: str | None = AS,
) -> None:
    """Your tokens (an admin: everyone's), newest first; never the secret."""
    from petcare_dba.services import mcp  # the MCP SDK loads only for these commands

    with runtime() as rt:
        rows = mcp.tokens.list_tokens(rt, actor(rt, as_user))
    cols = ["id", "name", "owner", "max_role", "connection_ids", "expires_at", "last_used_at"]
    emit(rows, fmt, [*cols, "active"])


@token_app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The token's id (token list)."),
    as_user: str | None = AS,
) -> None:
    """Revoke a token now; its next call is refused."""
    from petcare_dba.services import mcp  # the MCP SDK loads only for these commands

    with runtime() as rt:
        mcp.tokens.revoke(rt, actor(rt, as_user), token_id)
    typer.echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Add `mcp` and `token` to the CLI app."""
    app.command("mcp")(mcp_cmd)
    app.add_typer(token_app, name="token")
