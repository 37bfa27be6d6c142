"""`petcare-dba mcp` over stdio, driven by the SDK's own ClientSession (issue 20).

One spawned server per test: a viewer's token lists, describes, reads the schema resource and
queries, and every hostile payload of the security issue that reaches run_query is refused
(multi-statement smuggling, pg_read_file, set_config, SET ROLE, COPY TO PROGRAM, DO, writable
CTEs, plain writes) with table t unchanged and each call audited as `mcp.call` with its token.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from petcare_dba.errors import Refused
from petcare_dba.services import mcp
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_db import process_env
from tests.fix_engine import SEED
from tests.mcp.fix_mcp import ROOT, Targets, over_stdio, rows_of, targets

__all__ = ["targets"]  # the fixture is used by name

TOOLS = [
    "describe_table",
    "explain_query",
    "get_advisor_findings",
    "get_alerts",
    "get_metrics",
    "list_connections",
    "list_tables",
    "run_query",
    "suggest_indexes",
]


def hostile(touch: Path) -> dict[str, str]:
    """What an agent (or a prompt injected into one) sends to get past a read-only mode."""
    return {
        "smuggled": "SELECT 1; DROP TABLE t",
        "after_commit": "COMMIT; DELETE FROM t",
        "read_file": "SELECT pg_read_file('/etc/passwd')",
        "set_config": "SELECT set_config('default_transaction_read_only', 'off', false)",
        "set_role": "SET ROLE postgres",
        "reset_session": "SET SESSION AUTHORIZATION postgres",
        "copy_program": f"COPY t TO PROGRAM 'touch {touch}'",
        "do_block": "DO $$BEGIN EXECUTE 'DELETE FROM t'; END$$",
        "writable_cte": "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "update": "UPDATE t SET note = 'owned'",
        "select_into": "SELECT * INTO stolen FROM t",
        "lock": "LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
        "nul": "SELECT 1\x00; DROP TABLE t",
    }


@pytest.mark.slow  # spawns `petcare-dba mcp` (about 3-5 s with its runtime)
def test_a_viewer_token_over_stdio_reads_and_every_hostile_payload_is_refused(
    rt: Runtime, admin: Actor, make_user, targets: Targets, test_settings, tmp_path: Path
) -> None:
    vera = make_user("vera", "viewer")
    token = mcp.tokens.create(rt, vera, "agent")
    payloads = hostile(tmp_path / "touched")
    calls = [
        ("list_connections", {}),
        ("list_tables", {"connection": "tgt"}),
        ("describe_table", {"connection": "tgt", "table": "public.t"}),
        ("@resource", {"uri": "schema://tgt"}),
        ("run_query", {"connection": "tgt", "sql": "SELECT id, note FROM t ORDER BY id"}),
        ("explain_query", {"connection": "tgt", "sql": "SELECT * FROM t WHERE id = 1"}),
        *[("run_query", {"connection": "tgt", "sql": sql}) for sql in payloads.values()],
    ]
    tools, replies = over_stdio(test_settings, token.secret, calls)
    assert tools == TOOLS
    listed, tables, described, schema, rows, plan, *refused = replies
    assert not listed.error and listed.data["role"] == "viewer"
    assert {c["name"] for c in listed.data["connections"]} == {"tgt", "other"}
    assert "public.t" in [x["table"] for x in tables.data["tables"]]
    assert [c["name"] for c in described.data["columns"]] == ["id", "note"]
    assert schema.text.startswith("public.t (id, note)")
    assert rows.data["read_only"] and rows.data["results"][0]["rows"] == [list(r) for r in SEED]
    assert not plan.error and "Plan" in plan.text
    for name, reply in zip(payloads, refused, strict=True):
        assert reply.error, f"{name} was not refused: {reply.text}"
        assert "root:" not in reply.text and "owned" not in reply.text
    assert rows_of(targets.tgt_url) == SEED
    assert not (tmp_path / "touched").exists()
    audited = [e for e in audit.recent(rt.store, admin, action="mcp.call", limit=100)]
    assert len(audited) == len(calls)  # every call, read or refused, once
    assert {e.detail["token_id"] for e in audited} == {token.id}
    assert {e.username for e in audited} == {"vera"}
    assert sum(e.outcome != "ok" for e in audited) == len(payloads)
    # The server refuses writes from a viewer's token before the engine; without that check the
    # engine's read path (READ ONLY, least-privilege credential) refuses the same statements.
    for sql in ("DELETE FROM t", payloads["writable_cte"], payloads["do_block"]):
        with pytest.raises(Refused):
            engine.run(rt, vera, "tgt", sql)
    assert rows_of(targets.tgt_url) == SEED


_NO_SDK = "import sys; sys.modules['mcp'] = None; from petcare_dba.cli import main; main()"


@pytest.mark.slow  # two CLI processes in parallel (3-8 s on the shared machine)
def test_mcp_stops_before_serving_without_a_token_or_the_sdk(test_settings) -> None:
    # A wrong or revoked token is refused by the same `authenticate` before serving
    # (test_tokens.py); these two stop before the runtime opens.
    env = {**process_env(test_settings), "PYTHONPATH": str(ROOT)}
    cases = {
        "empty": ("", ["-m", "petcare_dba.cli", "mcp"], "no API token"),
        # Without the [mcp] extra the CLI still loads and says what to install.
        "no_sdk": ("pcd_" + "0" * 16 + "_" + "A" * 43, ["-c", _NO_SDK, "mcp"], "petcare-dba[mcp]"),
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, *args],
            env={**env, "PETCARE_MCP_TOKEN": token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (token, args, _) in cases.items()
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, (name, err)
        assert cases[name][2] in err and "Traceback" not in err and out == "", (name, err)
