"""The SQL engine end to end on a real PostgreSQL: decisions, read-only boundary, caps, audit.

Reliability Q1, Q2, Q4, Q8, Q11, A1-A3 and the execucoes_scripts log. Faults, timeouts and cancel
are in test_engine_faults.py.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest

from petcare_dba.db import target as target_db
from petcare_dba.db.target import executor, rows, widths
from petcare_dba.errors import (
    DatabaseError,
    NeedsConfirmation,
    PermissionDenied,
    Refused,
    Unavailable,
    ValidationError,
)
from petcare_dba.services import connections
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_engine import SEED, Target, events, runs, target, tune
from tests.security.c_privilege_fixtures import drop_role, read_role

__all__ = ["target"]  # the fixture is used by name

LIMITS = executor.Limits(5000, 2000, 60000, 1000, 50 * 1024 * 1024)

Q2_PAYLOADS = [
    "COMMIT; DELETE FROM t",
    "END; DROP TABLE t",
    "ROLLBACK; INSERT INTO t VALUES (9, 'x')",
    "SELECT 1; /* x */ DROP TABLE t",
    "SELECT 1; -- x\nDROP TABLE t",
    "SET default_transaction_read_only=off; DELETE FROM t",
    "SELECT $$;$$; DROP TABLE t",
    "SELECT E'\\';'; DROP TABLE t",
    "SELECT '\\'; DROP TABLE t; --'",
]


def test_select_returns_typed_rows_with_intent_and_outcome(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    result = engine.run(rt, admin, "tgt", "SELECT id, note FROM t ORDER BY id")
    assert result.ok and result.committed and result.read_only
    (query,) = result.results
    assert query.columns == ("id", "note") and query.column_types == ("int4", "text")
    assert query.rows == tuple(SEED) and query.row_count == 3 and not query.truncated
    intent, outcome = events(rt, admin)
    assert (intent.outcome, outcome.outcome) == ("intent", "ok")
    assert intent.sql_text == "SELECT id, note FROM t ORDER BY id"
    assert outcome.rows_affected == 3 and intent.classification == "read_only"
    (row,) = runs(meta_url)
    assert row["outcome"] == "ok" and row["rows_affected"] == 3 and row["user_id"] == admin.user_id
    assert row["audit_event_id"] is not None and outcome.detail["execution_id"] == row["id"]


def test_viewer_delete_is_refused_naming_the_rule_and_audited(
    rt: Runtime, make_user, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vera", "viewer")
    with pytest.raises(Refused) as info:
        engine.run(rt, viewer, "tgt", "DELETE FROM t")
    assert "viewer may run read-only statements only" in info.value.message
    assert info.value.exit_code == 2 and not isinstance(info.value, NeedsConfirmation)
    assert target.table() == SEED
    (entry,) = events(rt, viewer)
    assert entry.outcome == "refused" and entry.detail["rule"].startswith("viewer")
    assert [r["outcome"] for r in runs(meta_url)] == ["refused"]


def test_read_only_transaction_refuses_writes_without_the_classifier(target: Target, pg) -> None:  # type: ignore[no-untyped-def]
    # Q1 with the classifier out of the way: PostgreSQL alone must refuse the write.
    with pytest.raises(DatabaseError) as info:
        executor.run_read_only(target.url, "petcare-dba/test/q1", "DELETE FROM t", LIMITS)
    assert info.value.sqlstate == "25006"
    with psycopg.connect(target.url, autocommit=True) as conn:
        conn.execute("CREATE ROLE q1_reader LOGIN PASSWORD 'q1-reader-pw'")
        conn.execute("GRANT SELECT ON t TO q1_reader")
    try:
        reader = target.url.replace("postgres@", "q1_reader:q1-reader-pw@", 1)
        if reader == target.url:  # the server URL carries a password or another user
            reader = psycopg.conninfo.make_conninfo(
                target.url, user="q1_reader", password="q1-reader-pw"
            )
        with pytest.raises((DatabaseError, PermissionDenied)) as denied:
            executor.run_read_only(reader, "petcare-dba/test/q1", "DELETE FROM t", LIMITS)
        assert denied.value.sqlstate in ("25006", "42501")
    finally:
        with psycopg.connect(target.url, autocommit=True) as conn:
            conn.execute("DROP OWNED BY q1_reader")
            conn.execute("DROP ROLE q1_reader")
    assert target.table() == SEED


@pytest.mark.parametrize("payload", Q2_PAYLOADS)
def test_transaction_escape_payloads_are_refused_twice(
    rt: Runtime, make_user, target: Target, payload: str
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vic", "viewer")
    with pytest.raises(Refused):
        engine.run(rt, viewer, "tgt", payload)
    # And without the classifier: one statement per protocol message, READ ONLY transaction.
    with pytest.raises(DatabaseError) as info:
        executor.run_read_only(target.url, "petcare-dba/test/q2", payload, LIMITS)
    assert info.value.sqlstate in ("42601", "25006")
    assert target.table() == SEED
    assert target.rows("SELECT count(*) FROM pg_class WHERE relname = 't'") == [(1,)]


@pytest.mark.parametrize(
    ("sql", "after"),
    [
        ("DROP TABLE t", None),
        ("TRUNCATE t", []),
        ("DELETE FROM t", []),
        ("UPDATE t SET note = 'x'", [(1, "x"), (2, "x"), (3, "x")]),
        ("ALTER TABLE t DROP COLUMN note", None),
    ],
)
def test_destructive_statements_need_confirmation_naming_the_object(
    rt: Runtime, make_user, target: Target, sql: str, after
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    with pytest.raises(NeedsConfirmation) as info:
        engine.run(rt, dba, "tgt", sql)
    assert "t" in info.value.objects and info.value.reason and info.value.exit_code == 2
    assert target.table() == SEED
    engine.decline(rt, dba, "tgt", sql, "cancelled the dialog")
    assert target.table() == SEED
    assert engine.run(rt, dba, "tgt", sql, confirmed=True).ok
    if after is not None:
        assert target.table() == after
    outcomes = [e.outcome for e in events(rt, dba)]
    assert outcomes == ["confirm", "cancelled", "intent", "ok"]
    assert events(rt, dba)[1].detail["declined"] is True
    assert events(rt, dba)[2].detail["confirmed"] is True


def test_analyst_dml_runs_and_reports_rows(rt: Runtime, make_user, target: Target) -> None:  # type: ignore[no-untyped-def]
    analyst = make_user("ana", "analyst")
    result = engine.run(rt, analyst, "tgt", "UPDATE t SET note = 'uno' WHERE id = 1")
    assert result.ok and not result.read_only
    assert result.results[0].row_count == 1 and result.results[0].command_tag == "UPDATE 1"
    with pytest.raises(Refused):
        engine.run(rt, analyst, "tgt", "CREATE TABLE u (a int)")
    assert target.table()[0] == (1, "uno")


def test_volatile_function_in_a_select_is_not_read_only(
    rt: Runtime, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    target.execute(
        "CREATE FUNCTION bump() RETURNS int LANGUAGE sql VOLATILE "
        "AS 'INSERT INTO t VALUES (50, ''v'') RETURNING id'"
    )
    viewer = make_user("val", "viewer")
    with pytest.raises(Refused) as info:
        engine.run(rt, viewer, "tgt", "SELECT bump()")
    assert "bump" in info.value.message
    assert target.table() == SEED


def test_row_cap_truncates_ten_million_rows_without_growing_memory(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    result = engine.run(rt, admin, "tgt", "SELECT generate_series(1, 10000000) AS n")
    (query,) = result.results
    assert len(query.rows) == 1000 and query.truncated and query.rows[-1] == (1000,)
    assert query.truncated_reason is not None and "max_rows (1000)" in query.truncated_reason
    assert process.memory_info().rss - before < 100 * 1024 * 1024
    small = engine.run(rt, admin, "tgt", "SELECT generate_series(1, 20)", max_rows=5)
    assert len(small.results[0].rows) == 5 and small.results[0].truncated


def test_byte_cap_stops_a_result_of_large_rows(rt: Runtime, admin, target: Target) -> None:  # type: ignore[no-untyped-def]
    tune(rt, max_result_bytes=5 * 1024 * 1024)
    result = engine.run(
        rt, admin, "tgt", "SELECT repeat('x', 1048576) AS blob FROM generate_series(1, 1000)"
    )
    (query,) = result.results
    assert query.truncated and 1 <= len(query.rows) <= 5
    assert query.truncated_reason is not None and "max_result_bytes" in query.truncated_reason


def test_a_remembered_width_keeps_the_byte_cap_when_the_rows_grew(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a statement seen before asks for all its rows at once (one round trip), and the
    byte cap still holds when its rows grew since; wide rows keep the small first page."""
    tune(rt, max_result_bytes=1024 * 1024)
    target.execute(
        "CREATE TABLE docs AS SELECT g AS id, 'x' AS body FROM generate_series(1, 400) g"
    )
    text = "SELECT id, body FROM docs ORDER BY id"
    first = engine.run(rt, admin, "tgt", text).raise_for_error().results[0]
    assert len(first.rows) == 400 and not first.truncated
    width = widths.first_batch(widths_key(target, text), 1001, 1024 * 1024, rows.FIRST_BATCH)
    assert width == 1001  # 400 narrow rows seen: the next run asks for everything at once
    target.execute("UPDATE docs SET body = repeat('y', 20000)")  # each row 20 kB now
    grown = engine.run(rt, admin, "tgt", text).raise_for_error().results[0]
    assert grown.truncated and 1 <= len(grown.rows) <= 52
    assert grown.truncated_reason is not None and "max_result_bytes" in grown.truncated_reason
    # Learned wide now: back to the small first page for this statement.
    assert (
        widths.first_batch(widths_key(target, text), 1001, 1024 * 1024, rows.FIRST_BATCH)
        == rows.FIRST_BATCH
    )


def widths_key(target: Target, text: str) -> bytes:
    """The key the engine's connection to the target uses (same server, database and login)."""
    with psycopg.connect(target.url) as conn:
        return widths.key(conn, text)


def test_application_name_names_the_user_and_session(rt: Runtime, admin, target: Target) -> None:  # type: ignore[no-untyped-def]
    engine.run(rt, admin, "tgt", "SELECT 1")
    name = target_db.application_name(admin.username, admin.session_id)
    assert name == "petcare-dba/admin/cli"
    assert len(target.activity(name)) == 1
    result = engine.run(
        rt, admin, "tgt", "SELECT current_setting('application_name')", ai_initiated=True
    )
    assert result.results[0].rows == (("petcare-dba/admin/ai/cli",),)


def test_ai_path_is_read_only_whatever_the_role(rt: Runtime, admin, target: Target) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        engine.run(rt, admin, "tgt", "DELETE FROM t", ai_initiated=True, confirmed=True)
    assert target.table() == SEED
    result = engine.run(
        rt, admin, "tgt", "SELECT generate_series(1, 5000)", ai_initiated=True, max_rows=100000
    )
    assert len(result.results[0].rows) == 1000 and result.read_only


def test_script_runs_in_one_transaction_or_statement_by_statement(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    script = "INSERT INTO t VALUES (10, 'ten'); INSERT INTO t VALUES (1, 'dup')"
    result = engine.run(rt, admin, "tgt", script)
    assert not result.ok and not result.committed and result.error_index == 1
    assert result.error is not None and result.error.sqlstate == "23505"
    assert target.table() == SEED
    assert [(r["statement_index"], r["outcome"]) for r in runs(meta_url)] == [
        (0, "error"),
        (1, "error"),
    ]
    assert "rolled back" in runs(meta_url)[0]["message"]
    result = engine.run(rt, admin, "tgt", script, mode="statements")
    assert result.error_index == 1 and len(result.results) == 1
    assert (10, "ten") in target.table()


def test_begin_commit_wrapper_is_absorbed_and_stray_commit_refused(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    result = engine.run(rt, admin, "tgt", "BEGIN; INSERT INTO t VALUES (20, 'x'); COMMIT;")
    assert result.ok and len(result.results) == 1
    with pytest.raises(Refused, match="transaction"):
        engine.run(rt, admin, "tgt", "INSERT INTO t VALUES (21, 'y'); COMMIT; SELECT 1")
    assert (21, "y") not in target.table()


def test_syntax_error_reports_line_and_column_before_the_server(
    rt: Runtime, admin, target: Target
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        engine.run(rt, admin, "tgt", "SELECT 1;\nSELEC 2")
    assert "line 2, column 1" in info.value.message and info.value.position == 11
    assert [e.outcome for e in events(rt, admin)] == ["error"]


def test_nothing_runs_when_the_audit_intent_cannot_be_written(
    rt: Runtime, admin, target: Target, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("REVOKE INSERT ON petcare.audit_log FROM petcare_app")
    with pytest.raises(Unavailable, match="audit unavailable"):
        engine.run(rt, admin, "tgt", "INSERT INTO t VALUES (99, 'never')")
    assert target.table() == SEED
    assert runs(meta_url) == []


def test_classify_reports_positions_kinds_and_objects() -> None:
    found = engine.classify("SELECT * FROM t; DROP TABLE t")
    assert [(c.index, c.start, c.end, c.kind, c.read_only, c.destructive) for c in found] == [
        (0, 0, 15, "read_only", True, False),
        (1, 17, 29, "ddl", False, True),
    ]
    assert found[1].objects == ("t",)


def test_history_and_drafts_belong_to_their_user(
    rt: Runtime, admin, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vince", "viewer")
    engine.run(rt, admin, "tgt", "SELECT 1")
    engine.run(rt, viewer, "tgt", "SELECT 2")
    assert [h.sql_text for h in engine.history(rt, viewer)] == ["SELECT 2"]
    assert {h.sql_text for h in engine.history(rt, admin)} == {"SELECT 1", "SELECT 2"}
    assert [h.username for h in engine.history(rt, admin, search="2")] == ["vince"]
    assert engine.load_draft(rt, viewer, "tgt") is None
    engine.save_draft(rt, viewer, "tgt", "SELECT 'draft'")
    engine.save_draft(rt, viewer, "tgt", "SELECT 'draft 2'")
    draft = engine.load_draft(rt, viewer, "tgt")
    assert draft is not None and draft.content == "SELECT 'draft 2'"
    assert engine.load_draft(rt, admin, "tgt") is None


def test_vacuum_runs_outside_a_transaction_and_its_connection_is_not_reused(
    rt: Runtime, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dan", "dba")
    result = engine.run(rt, dba, "tgt", "VACUUM t")
    assert result.ok and result.results[0].command_tag == "VACUUM"
    assert target.activity(target_db.application_name("dan", dba.session_id)) == []
    with pytest.raises(ValidationError, match="cannot run inside a transaction block"):
        engine.run(rt, dba, "tgt", "VACUUM t; SELECT 1")
    result = engine.run(rt, dba, "tgt", "VACUUM t; SELECT 1", mode="statements")
    assert result.ok and len(result.results) == 2


def test_read_only_connection_refuses_writes_for_every_role(
    rt: Runtime, admin, pg, target: Target
) -> None:  # type: ignore[no-untyped-def]
    # Issue 12 (Q3): a read-only connection runs only as a least-privilege role.
    read_url = read_role(target.url)
    try:
        connections.add(rt, admin, "ro", target.url, read_only=True, read_url=read_url)
        with pytest.raises(Refused, match="read-only"):
            engine.run(rt, admin, "ro", "DELETE FROM t WHERE id = 1", confirmed=True)
        result = engine.run(rt, admin, "ro", "SELECT count(*) FROM t")
        assert result.read_only and result.results[0].rows == ((3,),)
        assert target.table() == SEED
    finally:
        engine.close(rt)
        drop_role(target.url, urlsplit(read_url).username or "")
