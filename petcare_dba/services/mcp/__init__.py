"""The MCP server: the safe engine and the DBA services offered to AI agents, per API token.

`tokens` creates (shown once), lists, revokes and authenticates per-user API tokens (hashed at
rest, expiring, scoped to connections and a maximum role, rate limited in the shared store);
`tools` runs each tool call as its token's actor under the connection's AI consent and audits
it as `mcp.call`; `server` builds the SDK server for stdio (`petcare-dba mcp`) and the
Streamable HTTP endpoint the app server mounts at /mcp.
"""

from __future__ import annotations

from petcare_dba.services.mcp import server, tokens, tools
from petcare_dba.services.mcp.tokens import Created, Principal, Token

__all__ = ["Created", "Principal", "Token", "server", "tokens", "tools"]
