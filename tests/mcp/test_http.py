"""MCP over Streamable HTTP at the app server's /mcp, driven by the SDK's client (issue 20).

One app server for the whole scenario (starting it is the slow part): no, wrong and revoked
tokens get 401 before the SDK; a token scoped to `tgt` cannot reach `other`, and the refusal
reads exactly like a connection that does not exist; a viewer's token cannot write; an admin's
token reads rows; the connection's AI consent holds; the per-token rate limit answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.services import assistant, mcp
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_engine import SEED
from tests.mcp.fix_mcp import Targets, over_http, rows_of, targets
from tests.observability.test_metrics import serve

__all__ = ["targets"]  # the fixture is used by name

LIMIT = 12
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


@pytest.fixture
def app_url(test_settings: settings_mod.Settings, targets: Targets) -> Iterator[str]:
    proc, port = serve(test_settings, PETCARE_MCP_CALLS_PER_MINUTE=str(LIMIT))
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=15)


def _post(url: str, token: str | None) -> int:
    headers = {"Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = token
    return httpx2.post(url, json=INIT, headers=headers, timeout=30).status_code


@pytest.mark.slow  # starts the app server (5-15 s on the shared machine)
def test_mcp_over_http_tokens_scope_roles_consent_and_rate_limit(
    rt: Runtime, admin: Actor, make_user, targets: Targets, app_url: str
) -> None:
    vera = make_user("vera", "viewer")
    scoped = mcp.tokens.create(rt, vera, "scoped", connection_names=("tgt",))
    revoked = mcp.tokens.create(rt, vera, "gone")
    mcp.tokens.revoke(rt, vera, revoked.id)
    for header in (
        None,
        "",
        "Bearer",
        "Basic dmVyYTp4",
        "Bearer pcd_nope",
        "Bearer " + revoked.secret,
    ):
        assert _post(app_url, header) == 401, header
    assert _post(app_url, "Bearer " + scoped.secret) == 200

    sql = "SELECT id, note FROM t ORDER BY id"
    _, (listed, mine, theirs, missing, write) = over_http(
        app_url,
        scoped.secret,
        [
            ("list_connections", {}),
            ("run_query", {"connection": "tgt", "sql": sql}),
            ("run_query", {"connection": "other", "sql": sql}),
            ("run_query", {"connection": "no-such-db", "sql": sql}),
            ("run_query", {"connection": "tgt", "sql": "DELETE FROM t"}),
        ],
    )
    assert [c["name"] for c in listed.data["connections"]] == ["tgt"]
    assert mine.data["results"][0]["rows"] == [list(r) for r in SEED]
    assert theirs.error and missing.error
    # Enumeration: out of scope and nonexistent read the same, bar the name given.
    assert theirs.text.replace("'other'", "X") == missing.text.replace("'no-such-db'", "X")
    assert write.error and "read-only" in write.text
    assert rows_of(targets.tgt_url) == SEED

    assistant.set_consent(rt, admin, "other", "schema")
    boss = mcp.tokens.create(rt, admin, "boss")
    _, replies = over_http(
        app_url,
        boss.secret,
        [
            ("run_query", {"connection": "tgt", "sql": "SELECT count(*) FROM t"}),
            ("run_query", {"connection": "other", "sql": "SELECT 1"}),
            ("list_tables", {"connection": "other"}),
            *[("list_connections", {}) for _ in range(LIMIT)],
        ],
    )
    counted, no_consent, tables, *rest = replies
    assert counted.data["results"][0]["rows"] == [[3]]
    assert no_consent.error and "AI consent 'data'" in no_consent.text
    assert not tables.error
    # Three calls above plus LIMIT more: the last three are over the minute's limit.
    assert [r.error for r in rest] == [False] * (LIMIT - 3) + [True] * 3
    assert "rate limit" in rest[-1].text
