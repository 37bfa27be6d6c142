"""The MCP tools behind the transports: roles, consent, scope and audit (issue 20).

These call `tools.call` directly (the code both transports run, minus the SDK) to cover the
tools the transport tests do not: the advisor, metrics, alerts, index suggestions, EXPLAIN of a
write, the consent levels, and the CLI's `token create|list|revoke`.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from petcare_dba.cli import app
from petcare_dba.errors import AuthError, NotFound, PermissionDenied, Refused, ValidationError
from petcare_dba.services import assistant, mcp
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_engine import SEED
from tests.mcp.fix_mcp import Targets, rows_of, targets

__all__ = ["targets"]  # the fixture is used by name


def call(rt: Runtime, token: str, tool: str, **args: object) -> object:
    return mcp.tools.call(rt, mcp.tools.Call(tool, dict(args), token))


def test_dba_tools_and_what_a_viewer_token_of_a_dba_may_not_do(
    rt: Runtime, admin: Actor, make_user, targets: Targets
) -> None:
    dana = make_user("dana", "dba")
    full = mcp.tokens.create(rt, dana, "full").secret
    viewer = mcp.tokens.create(rt, dana, "viewer", max_role="viewer").secret
    found = call(rt, full, "get_advisor_findings", connection="tgt")
    assert isinstance(found, dict) and found["total"] == len(found["findings"]) >= 0
    metrics = call(rt, full, "get_metrics", connection="tgt")
    assert {v["area"] for v in metrics["verdicts"]} >= {"availability"}  # type: ignore[index]
    assert call(rt, full, "get_alerts") == {"alerts": []}
    # The test target has no pg_stat_statements: the advisor's own answer comes through.
    with pytest.raises(ValidationError, match="pg_stat_statements"):
        call(rt, full, "suggest_indexes", connection="tgt")
    with pytest.raises(PermissionDenied, match="dba"):
        call(rt, viewer, "suggest_indexes", connection="tgt")
    # EXPLAIN (no ANALYZE) runs nothing; on the read path even planning a DELETE is denied.
    with pytest.raises((Refused, PermissionDenied)):
        call(rt, viewer, "explain_query", connection="tgt", sql="DELETE FROM t")
    with pytest.raises(Refused):
        call(rt, viewer, "run_query", connection="tgt", sql="INSERT INTO t VALUES (9, 'x')")
    with pytest.raises(NotFound):
        call(rt, full, "drop_everything", connection="tgt")
    # The dba's full token writes, through the same engine and audit as the editor.
    done = call(rt, full, "run_query", connection="tgt", sql="INSERT INTO t VALUES (4, 'four')")
    assert done["committed"] and not done["read_only"]  # type: ignore[index]
    assert rows_of(targets.tgt_url) == [*SEED, (4, "four")]
    typed = call(
        rt,
        viewer,
        "run_query",
        connection="tgt",
        sql="SELECT 1.5::numeric, '\\x00ff'::bytea, date '2026-01-02'",
    )
    assert typed["results"][0]["rows"] == [["1.5", "\\x00ff", "2026-01-02"]]  # type: ignore[index]
    runs = audit.recent(rt.store, admin, action="sql.execute", username="dana")
    insert = [e for e in runs if e.sql_text == "INSERT INTO t VALUES (4, 'four')"]
    # The engine's own audit row names the token that ran it, not only the mcp.call row.
    full_id = next(t.id for t in mcp.tokens.list_tokens(rt, dana) if t.name == "full")
    assert [e.session_id for e in insert] == [f"mcp:token:{full_id}"]
    calls = audit.recent(rt.store, admin, action="mcp.call", username="dana")
    by_token = {(e.target, e.detail["token_id"], e.outcome) for e in calls}
    assert ("run_query", mcp.tokens.list_tokens(rt, dana)[-1].id, "ok") in by_token


def test_consent_levels_gate_the_tools(rt: Runtime, admin: Actor, targets: Targets) -> None:
    token = mcp.tokens.create(rt, admin, "t").secret
    assistant.set_consent(rt, admin, "tgt", "none")
    for tool in ("list_tables", "describe_table", "get_metrics", "run_query"):
        args = {"table": "t"} if tool == "describe_table" else {}
        args |= {"sql": "SELECT 1"} if tool == "run_query" else {}
        with pytest.raises(Refused, match="AI consent"):
            call(rt, token, tool, connection="tgt", **args)
    assistant.set_consent(rt, admin, "tgt", "stats")
    assert call(rt, token, "get_metrics", connection="tgt")
    with pytest.raises(Refused, match="AI consent 'data'"):
        call(rt, token, "run_query", connection="tgt", sql="SELECT 1")
    refused = audit.recent(rt.store, admin, action="mcp.call", outcome="refused")
    assert len(refused) == 5


def test_token_cli_creates_lists_and_revokes(
    test_settings, rt: Runtime, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "ci", "--role", "viewer", "--format", "json"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert mcp.tokens.authenticate(rt, created["token"]).actor.role == "viewer"
    listed = runner.invoke(app, ["token", "list", "--format", "json"])
    assert created["token"] not in listed.stdout
    assert [t["name"] for t in json.loads(listed.stdout)] == ["ci"]
    gone = runner.invoke(app, ["token", "revoke", str(created["id"])])
    assert gone.exit_code == 0, gone.output
    with pytest.raises(AuthError):
        mcp.tokens.authenticate(rt, created["token"])
