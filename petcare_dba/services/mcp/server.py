"""The MCP server on the official SDK: the tools and the schema resource, over stdio or HTTP.

`build` declares the tools (list_connections, list_tables, describe_table, run_query,
explain_query, get_advisor_findings, get_metrics, get_alerts, suggest_indexes) and the
`schema://{connection}` resource; each hands its arguments and the caller's bearer token to
`tools.call` in a worker thread (the services block). The token comes from the HTTP request's
`Authorization: Bearer` header, or for stdio from the `PETCARE_MCP_TOKEN` the process was
started with; it is checked again on every call, so a revoked token stops at its next call.
`http_app` is the Streamable HTTP ASGI app the app server mounts at /mcp, behind a bearer check
that answers 401 before the SDK sees anything; `serve_stdio` runs `petcare-dba mcp`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from petcare_dba.errors import ConfigError, PetcareError, redact
from petcare_dba.services.mcp import tokens, tools
from petcare_dba.services.runtime import Runtime

try:  # the [mcp] extra
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    from mcp.server.transport_security import TransportSecuritySettings
except ImportError:  # pragma: no cover - a server installed without it
    MCPServer = None  # type: ignore[assignment,misc]

TOKEN_ENV = "PETCARE_MCP_TOKEN"  # noqa: S105 - the variable's name, not a token
INSTRUCTIONS = (
    "PetCare DBA Admin: PostgreSQL connections through a safe engine. Every call is audited "
    "with your token; what you may run depends on the token's role and the connection's AI "
    "consent. Start with list_connections."
)


def _bearer(headers: Any) -> str:
    value = headers.get("authorization", "") if headers is not None else ""
    scheme, _, given = str(value).partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def require_sdk() -> None:
    """Raise ConfigError (what to install) when the SDK of the `[mcp]` extra is missing."""
    if MCPServer is None:
        raise ConfigError("the MCP server needs the mcp package", hint="install petcare-dba[mcp]")


def build(runtime: Callable[[], Runtime], stdio_token: str | None = None) -> MCPServer[Any]:
    """An MCPServer whose tools act for the caller's token (stdio: `stdio_token`)."""
    require_sdk()
    # WARNING: the SDK logs each refused call at INFO; our audit log already records every call.
    server: MCPServer[Any] = MCPServer(
        "petcare-dba", instructions=INSTRUCTIONS, log_level="WARNING"
    )
    session = "mcp-stdio" if stdio_token is not None else "mcp-http"

    async def invoke(ctx: Context | None, tool: str, args: dict[str, Any]) -> Any:
        headers = ctx.headers if ctx is not None else None
        token = stdio_token if stdio_token is not None else _bearer(headers)
        request = tools.Call(tool, {k: v for k, v in args.items() if v is not None}, token)
        try:
            return await asyncio.to_thread(tools.call, runtime(), request, session)
        except PetcareError as exc:
            raise ToolError(f"{exc.title}: {redact(exc.message)}") from None

    @server.tool()
    async def list_connections(ctx: Context) -> dict[str, Any]:
        """The connections this token may use, with their AI consent and whether read-only."""
        return await invoke(ctx, "list_connections", {})

    @server.tool()
    async def list_tables(
        connection: str, ctx: Context, schema: str = "", name_contains: str = ""
    ) -> dict[str, Any]:
        """Tables and views of a connection, optionally filtered by schema or name fragment."""
        args = {"connection": connection, "schema": schema, "name_contains": name_contains}
        return await invoke(ctx, "list_tables", args)

    @server.tool()
    async def describe_table(connection: str, table: str, ctx: Context) -> dict[str, Any]:
        """Columns, constraints, indexes and DDL of one table (schema.name)."""
        args = {"connection": connection, "table": table}
        return await invoke(ctx, "describe_table", args)

    @server.tool()
    async def run_query(connection: str, sql: str, ctx: Context) -> dict[str, Any]:
        """Run SQL through the safe engine as the token's role (viewer: read-only path)."""
        args = {"connection": connection, "sql": sql}
        return await invoke(ctx, "run_query", args)

    @server.tool()
    async def explain_query(connection: str, sql: str, ctx: Context) -> dict[str, Any]:
        """EXPLAIN (without ANALYZE) one statement; the same decision as running it."""
        args = {"connection": connection, "sql": sql}
        return await invoke(ctx, "explain_query", args)

    @server.tool()
    async def get_advisor_findings(connection: str, ctx: Context) -> dict[str, Any]:
        """What the advisor's lints find on a connection (missing indexes, no primary key...)."""
        args = {"connection": connection}
        return await invoke(ctx, "get_advisor_findings", args)

    @server.tool()
    async def get_metrics(connection: str, ctx: Context) -> dict[str, Any]:
        """Health verdicts per area from the monitoring collector's newest samples."""
        args = {"connection": connection}
        return await invoke(ctx, "get_metrics", args)

    @server.tool()
    async def get_alerts(
        ctx: Context, connection: str | None = None, state: str = "firing"
    ) -> dict[str, Any]:
        """Alert events (firing or resolved), of one connection or of every one in scope."""
        args = {"connection": connection, "state": state}
        return await invoke(ctx, "get_alerts", args)

    @server.tool()
    async def suggest_indexes(connection: str, ctx: Context) -> dict[str, Any]:
        """Indexes for the slowest statements, verified with hypopg when installed (dba)."""
        args = {"connection": connection}
        return await invoke(ctx, "suggest_indexes", args)

    @server.resource("schema://{connection}", mime_type="text/plain")
    async def schema(connection: str, ctx: Context) -> str:
        """Every table of a connection with its columns, one line each."""
        try:
            return await invoke(ctx, "schema", {"connection": connection})
        except ToolError as exc:
            raise ResourceError(str(exc)) from None

    return server


def serve_stdio(rt: Runtime, token: str) -> None:
    """Serve MCP on standard input and output for one token (checked before anything)."""
    tokens.authenticate(rt, token, session="mcp-stdio")  # fail at start, not at the first call
    asyncio.run(build(lambda: rt, token).run_stdio_async())


class _BearerGate:
    """ASGI: 401 unless the request carries a live token (checked again on each tool call)."""

    def __init__(self, server: MCPServer[Any], runtime: Callable[[], Runtime]) -> None:
        self.server = server
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            await asyncio.to_thread(tokens.check, self.runtime(), _bearer(headers))
        except PetcareError as exc:
            await _plain(send, 401, redact(exc.message))
            return
        await self.server.session_manager.handle_request(scope, receive, send)


async def _plain(send: Send, status: int, text: str) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="petcare-dba"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


def http_app(
    runtime: Callable[[], Runtime],
) -> tuple[ASGIApp, Callable[[], contextlib.AbstractAsyncContextManager[None]]]:
    """The Streamable HTTP endpoint (an ASGI app for one route) and the lifespan it needs.

    Stateless with JSON responses: any app instance behind a load balancer answers any request.
    The SDK's DNS-rebinding guard (Host/Origin allow-list) is off: it exists for servers that
    trust their network, and this one trusts nothing without a bearer token, which a rebound
    page cannot read. Creating the Starlette app is what makes the SDK's session manager.
    """
    server = build(runtime)
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return _BearerGate(server, runtime), lifespan
