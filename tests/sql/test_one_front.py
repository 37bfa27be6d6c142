"""One front half (issue 16): every entry point decides and opens through `services/sql/front.py`.

Two proofs. The code: export, the explicit transaction and verdict (and the engine itself) call none
of the primitives the front half is made of (parse and decide in `plan`, `refusals` and `safety`,
the text check, the credential, the pool lease, the pg_proc lookup); EXPLAIN, project runs and the
assistant's tools reach the target only through `engine.run`. The behaviour, on a real PostgreSQL:
hostile statements get the same refusal and the same audit row from an explicit transaction as from
`engine.run`, and export refuses them with the same outcome, on record, with nothing run.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from petcare_dba.errors import PetcareError, Refused
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security.audit import AuditEntry
from petcare_dba.services.sql import engine, export
from petcare_dba.services.sql.transaction import ExplicitTransaction
from tests.fix_engine import Target, events, target

__all__ = ["target"]  # fixture used by name

SERVICES = Path(__file__).resolve().parents[2] / "petcare_dba" / "services"
SQL = SERVICES / "sql"
# What the front half is made of: nobody else may call these to decide or to open.
DECIDE_OR_OPEN = {
    "plan.early",
    "plan.final",
    "refusals.decide",
    "refusals.check_syntax",
    "plan.resolve",
    "plan.unknown_functions",
    "refusals.decidable_early",
    "plan.plan",
    "safety.decide",
    "safety.decide_script",
    "executor.function_volatility",
    "connections.credential_for",
    "connections.for_run",
    "front.pool_for",
    "engine.pool_for",
    "record.refused",
}
# The entries that had their own front half: also no parse and no text check of their own.
OWN_FRONT = DECIDE_OR_OPEN | {"plan.analyse", "intake.check", "record.refused_input"}


def _calls(path: Path) -> set[str]:
    """`a.b` for every call `a.b(...)` and `.name` for every other method call in a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            found.add(
                f"{owner.id}.{node.func.attr}"
                if isinstance(owner, ast.Name)
                else f".{node.func.attr}"
            )
    return found


def _leases(calls: set[str]) -> set[str]:
    # A pool lease (`pool.connection(...)`) or a pool of the runtime's: only front opens.
    return {c for c in calls if c.endswith(".connection") or "target_pools" in c}


@pytest.mark.parametrize("module", ["export", "transaction", "verdict", "engine"])
def test_the_entries_decide_and_open_only_through_the_front_half(module: str) -> None:
    calls = _calls(SQL / f"{module}.py")
    assert not calls & OWN_FRONT, sorted(calls & OWN_FRONT)
    assert not _leases(calls), sorted(_leases(calls))
    assert {c for c in calls if c.startswith("front.")}, f"{module} does not use front"


@pytest.mark.parametrize(
    "path", ["sql/explain.py", "assistant/tools.py", "projects/runs.py", "sql/cached.py"]
)
def test_explain_tools_and_project_runs_reach_the_target_only_through_engine_run(
    path: str,
) -> None:
    calls = _calls(SERVICES / path)
    assert not calls & DECIDE_OR_OPEN, sorted(calls & DECIDE_OR_OPEN)
    assert not _leases(calls), sorted(_leases(calls))
    if path != "sql/cached.py":  # cached is called by engine.run on its lease
        assert "engine.run" in calls


def test_only_the_front_half_decides_and_opens_in_the_sql_package() -> None:
    callers = {
        p.stem
        for p in SQL.glob("*.py")
        if {"plan.early", "plan.final", "connections.credential_for"} & _calls(p)
        or _leases(_calls(p))
    }
    assert callers == {"front"}


def _row(entry: AuditEntry) -> tuple[object, ...]:
    """What must be the same in the audit row of a refusal, whatever the entry."""
    d = entry.detail
    return entry.outcome, entry.classification, entry.sqlstate, d.get("rule"), d.get("message")


def _refusal(call: Callable[[], object]) -> tuple[type[Exception], str]:
    with pytest.raises(PetcareError) as caught:
        call()
    return type(caught.value), caught.value.message


HOSTILE = [
    "SELECT 1\x00; DROP TABLE t",  # refused text: nothing parsed, still on record
    "SELEC id FROM t",  # syntax error
    "DROP TABLE t",  # needs confirmation
    "SELECT 1; COMMIT",  # transaction control inside the run's transaction
    "DROP INDEX CONCURRENTLY t_pkey",  # needs confirmation, cannot run in a transaction
    "BEGIN; SELECT 1; COMMIT; DROP TABLE t",  # a wrapper that does not wrap
    "COPY t TO PROGRAM 'true'",
    "SET ROLE postgres; DELETE FROM t",
]


def test_an_explicit_transaction_refuses_and_audits_as_engine_run(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    tx = ExplicitTransaction(rt, admin, target.name)
    try:
        for sql in HOSTILE:
            by_engine = _refusal(lambda sql=sql: engine.run(rt, admin, target.name, sql))
            engine_row = _row(events(rt, admin)[-1])
            by_tx = _refusal(lambda sql=sql: tx.run(sql))
            assert by_tx == by_engine, sql
            assert _row(events(rt, admin)[-1]) == engine_row, sql
        assert tx.is_open  # refusals never reached the server: the transaction is intact
    finally:
        tx.close()
    assert target.table() == [(1, "one"), (2, "two"), (3, "three")]


def test_export_refuses_hostile_statements_with_the_engines_outcome(
    rt: Runtime, make_user: Callable[[str, str], Actor], target: Target
) -> None:
    viewer = make_user("vic", "viewer")
    target.execute(
        "CREATE FUNCTION wipe() RETURNS int LANGUAGE sql VOLATILE AS $$ DELETE FROM t; SELECT 1 $$"
    )
    for sql in [*HOSTILE, "SELECT wipe()", "WITH d AS (DELETE FROM t RETURNING *) SELECT 1"]:
        kind, _ = _refusal(lambda sql=sql: engine.run(rt, viewer, target.name, sql))
        engine_row = _row(events(rt, viewer)[-1])
        export_kind, _ = _refusal(
            lambda sql=sql: export.export(rt, viewer, target.name, sql, io.BytesIO())
        )
        row = _row(events(rt, viewer)[-1])
        # Same outcome and classification on record; export names its own rule when it is
        # the stricter one (one read-only SELECT).
        assert row[:3] == engine_row[:3], sql
        assert issubclass(export_kind, Refused) == issubclass(kind, Refused), sql
    assert target.table() == [(1, "one"), (2, "two"), (3, "three")]
