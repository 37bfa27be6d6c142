"""One decision (issue 12): `classify --connection` gives exactly the engine's verdict.

The same statements go through `petcare-dba classify --connection C --as U --format json` and
through `engine.run` as the same user, one by one, for a viewer (least-privilege connection), an
analyst and a dba (superuser connection, runs rolled back so the target stays unchanged), and
the verdicts (allow / confirm / reject with its rule / error) are compared. Offline, the same
text gives a stricter verdict only where a function cannot be resolved without the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from petcare_dba.errors import NeedsConfirmation, Refused, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.security.a_classifier_fixtures import LO_OID, Hostile, classify_cli, hostile

__all__ = ["classify_cli", "hostile"]  # fixtures used by name

STATEMENTS = [
    "SELECT * FROM t ORDER BY id",
    "SELECT pure_fn(1)",
    "SELECT stable_fn()",
    "SELECT evil()",
    "SELECT pg_sleep('x'::text)",
    "SELECT pg_sleep(0)",
    "SELECT no_such_function()",
    f"SELECT lo_get({LO_OID})",
    f"SELECT lo_unlink({LO_OID})",
    "SELECT * FROM dblink('host=127.0.0.1', 'SELECT 1') AS x(a int)",
    "SELECT query_to_xml('SELECT 1', true, true, '')",
    "SET standard_conforming_strings = off",
    "SELECT set_config('application_name', 'x', true)",
    "DECLARE c CURSOR FOR SELECT * FROM t; FETCH 1 FROM c",
    "EXPLAIN SELECT evil()",
    "EXPLAIN ANALYZE DELETE FROM t WHERE id = 1",
    "INSERT INTO t VALUES (50, 'x')",
    "DELETE FROM t",
    "COPY t TO PROGRAM 'true'",
    "SELECT 1; COMMIT",
    "SELEC 1",
    "SELECT * FROM t FOR UPDATE",
    "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d",
    "SELECT imm_liar()",
    "SELECT 1 === 1",
    "SELECT public.pure_fn(2), pg_catalog.lower('A')",
]


def _engine_verdict(rt: Runtime, actor: Actor, connection: str, sql: str) -> tuple[str, Any]:
    try:
        engine.run(rt, actor, connection, sql, rollback=True)
    except NeedsConfirmation:
        return "confirm", None
    except Refused as exc:
        hint = exc.hint or ""
        # Decisions put the rule in the hint; the transaction plan puts it first in the message.
        return "reject", hint[6:] if hint.startswith("rule: ") else exc.message.split(":")[0]
    except ValidationError:
        return "error", None
    return "allow", None


def _cli_verdict(cli: Any, connection: str, user: str, sql: str, role: str | None = None) -> Any:
    args = ["classify", "--connection", connection, "--as", user, "--format", "json", "-"]
    if role:
        args[1:1] = ["--role", role]
    out = CliRunner().invoke(cli, args, input=sql)
    assert out.exit_code == 0, out.output
    entries = json.loads(out.stdout)
    assert all(e["resolved_on_connection"] for e in entries)
    [verdict] = entries[0]["script_verdict"].values()
    assert all(e["script_verdict"] == entries[0]["script_verdict"] for e in entries)
    outcome = verdict["outcome"]
    return outcome, verdict["rule"] if outcome == "reject" else None


@pytest.mark.parametrize(
    ("role", "connection"), [("viewer", "low"), ("analyst", "tgt"), ("dba", "tgt")]
)
def test_classify_connection_gives_the_engines_verdict(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
    classify_cli: Any,
    role: str,
    connection: str,
) -> None:
    user = f"u_{role}"
    actor: Actor = make_user(user, role)
    before = hostile.snapshot()
    got = {sql: _cli_verdict(classify_cli, connection, user, sql) for sql in STATEMENTS}
    want = {sql: _engine_verdict(rt, actor, connection, sql) for sql in STATEMENTS}
    for sql in STATEMENTS:
        assert got[sql] == want[sql], sql
    assert len(set(got.values())) >= 3  # the list is mixed for every role
    assert hostile.snapshot() == before


def test_role_option_decides_for_another_role(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
    classify_cli: Any,
) -> None:
    viewer: Actor = make_user("vera", "viewer")
    make_user("dan", "dba")
    for sql in ("SELECT pure_fn(1)", "SELECT evil()", "SET standard_conforming_strings = off"):
        got = _cli_verdict(classify_cli, "low", "dan", sql, role="viewer")
        assert got == _engine_verdict(rt, viewer, "low", sql), sql


def test_offline_is_stricter_only_for_unresolved_functions(classify_cli: Any) -> None:
    out = CliRunner().invoke(
        classify_cli, ["classify", "--format", "json", "-"], input="SELECT pure_fn(1)"
    )
    [entry] = json.loads(out.stdout)
    assert entry["read_only"] is False and entry["depends_on"] == ["pure_fn"]
    assert entry["script_verdict"]["viewer"]["outcome"] == "reject"
    assert entry["script_verdict"]["analyst"]["outcome"] == "allow"
    text = CliRunner().invoke(
        classify_cli, ["classify", "--role", "viewer", "-"], input="SELECT pure_fn(1)"
    )
    assert "depends on: pure_fn" in text.stdout and "viewer: reject" in text.stdout
    bad = CliRunner().invoke(classify_cli, ["classify", "--role", "root", "-"], input="SELECT 1")
    assert bad.exit_code == 2 or bad.exit_code == 1
