"""EXPLAIN / EXPLAIN ANALYZE through the engine: plan tree, costliest nodes, same decisions.

EXPLAIN ANALYZE of a writing statement needs exactly what running it needs (a viewer is refused,
a DELETE without WHERE needs confirmation) and runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from petcare_dba.errors import NeedsConfirmation, PermissionDenied, Refused, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import explain
from tests.fix_engine import Target, events, target
from tests.sql.test_sql_cli import cli

__all__ = ["cli", "target"]  # fixtures used by name


def test_explain_parses_the_plan_into_a_tree_with_the_costliest_marked(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    target.execute("INSERT INTO t SELECT g, 'n' || g FROM generate_series(10, 5000) g")
    target.execute("ANALYZE t")
    result = explain.explain(
        rt, admin, "tgt", "SELECT note, count(*) FROM t GROUP BY note ORDER BY 2"
    )
    assert not result.analyzed and result.execution_ms is None
    types = [n.node_type for n in result.nodes]
    assert types[0] == "Sort" and "Seq Scan" in types
    scan = next(n for n in result.nodes if n.node_type == "Seq Scan")
    assert scan.relation == "t"
    assert scan.depth > result.nodes[0].depth
    assert any(n.hot for n in result.nodes)
    hottest = max(result.nodes, key=lambda n: n.self_cost)
    assert hottest.hot
    assert round(sum(n.share for n in result.nodes)) in (99, 100, 101)
    assert result.raw[0]["Plan"]["Node Type"] == "Sort"


def test_explain_analyze_marks_nodes_by_self_time(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    result = explain.explain(
        rt, admin, "tgt", "SELECT count(*) FROM generate_series(1, 200000) g", analyze=True
    )
    assert result.analyzed and result.execution_ms is not None and result.planning_ms is not None
    function_scan = next(n for n in result.nodes if n.node_type == "Function Scan")
    assert function_scan.self_ms is not None and function_scan.actual_rows == 200000
    assert function_scan.hot


def test_explain_analyze_of_a_delete_needs_confirmation_and_is_rolled_back(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    with pytest.raises(NeedsConfirmation) as info:
        explain.explain(rt, admin, "tgt", "DELETE FROM t", analyze=True)
    assert info.value.objects == ("t",)
    result = explain.explain(rt, admin, "tgt", "DELETE FROM t", analyze=True, confirmed=True)
    assert result.nodes[0].node_type == "ModifyTable" and result.nodes[0].actual_rows == 0
    assert len(target.table()) == 3  # it ran, and was rolled back
    outcomes = [e.outcome for e in events(rt, admin)]
    assert outcomes[-3:] == ["confirm", "intent", "ok"]


def test_explain_analyze_of_a_write_is_refused_for_a_viewer(
    rt: Runtime,
    admin: Actor,
    target: Target,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    vera = make_user("vera", "viewer")
    with pytest.raises(Refused, match="viewer may run read-only statements only"):
        explain.explain(rt, vera, "tgt", "UPDATE t SET note = 'x' WHERE id = 1", analyze=True)
    # Issue 12 (Q3): the viewer runs as a least-privilege role, which PostgreSQL does not even
    # let plan a write; a dba still can.
    with pytest.raises(PermissionDenied, match="permission denied for table t"):
        explain.explain(rt, vera, "tgt", "UPDATE t SET note = 'x' WHERE id = 1")
    plain = explain.explain(rt, admin, "tgt", "UPDATE t SET note = 'x' WHERE id = 1")
    assert plain.nodes[0].node_type == "ModifyTable"  # planning only: allowed
    assert target.table()[0] == (1, "one")


def test_explain_takes_exactly_one_statement(rt: Runtime, admin: Actor, target: Target) -> None:
    with pytest.raises(ValidationError, match="exactly one statement"):
        explain.explain(rt, admin, "tgt", "SELECT 1; SELECT 2")
    with pytest.raises(ValidationError, match="without EXPLAIN"):
        explain.explain(rt, admin, "tgt", "EXPLAIN SELECT 1")


def test_a_trailing_comment_cannot_hide_part_of_the_wrapper() -> None:
    text = explain.explain_text("SELECT 1 -- note", analyze=True)
    assert text.startswith("EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS)\n")


def test_cli_explain_prints_the_tree_and_exit_codes(cli, target: Target) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.cli import explain_export

    explain_export.register(cli)
    ok = CliRunner().invoke(
        cli, ["explain", "--connection", "tgt", "SELECT * FROM t ORDER BY note"]
    )
    assert ok.exit_code == 0, ok.output
    assert "-> Sort" in ok.output and "Seq Scan on t" in ok.output
    refused = CliRunner().invoke(
        cli, ["explain", "--analyze", "--connection", "tgt", "DELETE FROM t"]
    )
    assert refused.exit_code == 2 and "confirmation needed" in refused.output
    as_json = CliRunner().invoke(
        cli, ["explain", "--format", "json", "--connection", "tgt", "SELECT 1"]
    )
    assert as_json.exit_code == 0 and '"Node Type": "Result"' in as_json.output
