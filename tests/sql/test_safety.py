"""Tables for the SQL splitter, classifier and per-role decision table (reliability Q1-Q4).

Pure tests: no database. The database-side proof that the same payloads are refused lives in the
integration suite; here we pin what PostgreSQL's own parser (through pglast) tells the app.
"""

from __future__ import annotations

import pytest

from petcare_dba.errors import ValidationError
from petcare_dba.services.sql import safety
from petcare_dba.services.sql.safety import (
    Allow,
    Confirm,
    Kind,
    Reject,
    classify,
    classify_script,
    decide,
    decide_script,
    function_names,
    split,
)

ROLES = ("viewer", "analyst", "dba", "admin")

# Reliability Q2: pgAdmin's transaction-escape regression list plus lexer-difference payloads.
ESCAPES = [
    ("COMMIT; DELETE FROM t", ["COMMIT", "DELETE FROM t"]),
    ("END; DROP TABLE t", ["END", "DROP TABLE t"]),
    ("ROLLBACK; INSERT INTO t VALUES (1)", ["ROLLBACK", "INSERT INTO t VALUES (1)"]),
    ("SELECT 1; /* x */ DROP TABLE t", ["SELECT 1", "DROP TABLE t"]),
    ("SELECT 1; -- x\nDROP TABLE t", ["SELECT 1", "DROP TABLE t"]),
    (
        "SET default_transaction_read_only=off; DELETE FROM t",
        ["SET default_transaction_read_only=off", "DELETE FROM t"],
    ),
    ("SELECT $$;$$; DROP TABLE t", ["SELECT $$;$$", "DROP TABLE t"]),
    ("SELECT $a$ $$; $a$; DROP TABLE t", ["SELECT $a$ $$; $a$", "DROP TABLE t"]),
    ("SELECT ';'; DROP TABLE t", ["SELECT ';'", "DROP TABLE t"]),
    ("SELECT E'\\';'; DROP TABLE t", ["SELECT E'\\';'", "DROP TABLE t"]),
    ("SELECT '\\'; DROP TABLE t; --'", ["SELECT '\\'", "DROP TABLE t"]),
    ('SELECT 1 AS ";"; DROP TABLE t', ['SELECT 1 AS ";"', "DROP TABLE t"]),
    (
        "SELECT 1 /* ; nested /* ; */ ; */; DROP TABLE t",
        ["SELECT 1", "DROP TABLE t"],
    ),
    (
        "BEGIN; SET TRANSACTION READ WRITE; DELETE FROM t",
        ["BEGIN", "SET TRANSACTION READ WRITE", "DELETE FROM t"],
    ),
]


@pytest.mark.parametrize(("script", "texts"), ESCAPES)
def test_split_finds_every_statement_of_an_escape_payload(script: str, texts: list[str]) -> None:
    statements = split(script)
    assert [s.text for s in statements] == texts
    assert [s.index for s in statements] == list(range(len(texts)))
    for s in statements:
        assert script[s.start : s.end] == s.text


@pytest.mark.parametrize("role", ["viewer", "analyst"])
@pytest.mark.parametrize(("script", "texts"), ESCAPES)
def test_escape_payloads_are_rejected(script: str, texts: list[str], role: str) -> None:
    decision = decide_script(classify_script(script), role, False)
    assert isinstance(decision, Reject)


@pytest.mark.parametrize(
    ("script", "spans"),
    [
        ("SELECT 'ção'; DELETE FROM t", [(0, 12), (14, 27)]),
        ("SELECT '😀'; DROP TABLE t", [(0, 10), (12, 24)]),
        ("-- ünïcödé\nSELECT 'é';\n/* ß */ DELETE FROM t", [(11, 21), (31, 44)]),
        ("  SELECT 1  ;  ", [(2, 10)]),
        ("SELECT 1; SELECT 2 -- tail", [(0, 8), (10, 18)]),
        ("SELECT 1;;SELECT 2;", [(0, 8), (10, 18)]),
    ],
)
def test_split_offsets_are_character_indices(script: str, spans: list[tuple[int, int]]) -> None:
    statements = split(script)
    assert [(s.start, s.end) for s in statements] == spans
    assert all(script[s.start : s.end] == s.text for s in statements)


def test_split_keeps_semicolons_inside_an_atomic_function_body() -> None:
    script = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SELECT 2"
    assert [s.text for s in split(script)] == [script[: script.index("; SELECT 2")], "SELECT 2"]


@pytest.mark.parametrize(
    "script", ["", "   ", ";", " ; ;; ", "-- only a comment", "/* c */\n-- d\n"]
)
def test_empty_and_comment_only_scripts_have_no_statements(script: str) -> None:
    assert split(script) == []
    assert classify_script(script) == []
    assert decide_script(classify_script(script), "viewer", True) == Allow()


@pytest.mark.parametrize(
    ("script", "line", "column", "position", "near"),
    [
        ("SELECT 1;\n\n-- c\nSELECT ção,\n  fro frm x", 5, 11, 39, 'near "x"'),
        ("SELECT 1;\nSELEC 2", 2, 1, 11, 'near "SELEC"'),
        ("SELECT 'abc", 1, 8, 8, "unterminated quoted string"),
        ("SELECT 1 +", 1, 11, 11, "end of input"),
    ],
)
def test_syntax_error_reports_line_column_and_position(
    script: str, line: int, column: int, position: int, near: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        split(script)
    error = caught.value
    assert f"(line {line}, column {column})" in error.message
    assert near in error.message
    assert error.position == position
    assert error.sqlstate == "42601"


# (sql, kind, read_only, destructive)
KINDS = [
    ("SELECT 1", Kind.READ_ONLY, True, False),
    ("SELECT * FROM t WHERE a IN (SELECT b FROM u)", Kind.READ_ONLY, True, False),
    ("WITH x AS (SELECT 1) SELECT * FROM x", Kind.READ_ONLY, True, False),
    ("VALUES (1), (2)", Kind.READ_ONLY, True, False),
    ("TABLE t", Kind.READ_ONLY, True, False),
    ("SHOW work_mem", Kind.READ_ONLY, True, False),
    ("EXPLAIN DELETE FROM t", Kind.READ_ONLY, True, False),
    ("EXPLAIN (ANALYZE false) DELETE FROM t", Kind.READ_ONLY, True, False),
    ("COPY t TO STDOUT", Kind.READ_ONLY, True, False),
    ("SELECT random(), now(), lo_get(1)", Kind.READ_ONLY, True, False),
    ("INSERT INTO t VALUES (1)", Kind.DML, False, False),
    ("UPDATE t SET a = 1 WHERE id = 2", Kind.DML, False, False),
    ("UPDATE t SET a = 1", Kind.DML, False, True),
    ("DELETE FROM t WHERE id = 1", Kind.DML, False, False),
    ("DELETE FROM t", Kind.DML, False, True),
    ("MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE", Kind.DML, False, False),
    ("COPY t FROM STDIN", Kind.DML, False, False),
    ("EXPLAIN ANALYZE DELETE FROM t", Kind.DML, False, True),
    ("EXPLAIN (ANALYZE, BUFFERS) INSERT INTO t VALUES (1)", Kind.DML, False, False),
    ("EXPLAIN ANALYZE SELECT 1", Kind.READ_ONLY, True, False),
    ("DO $$ BEGIN DELETE FROM t; END $$", Kind.DML, False, False),
    ("CALL p(1)", Kind.DML, False, False),
    ("EXECUTE p(1)", Kind.DML, False, False),
    ("PREPARE p AS SELECT 1", Kind.SESSION, False, False),
    ("PREPARE p AS DELETE FROM t", Kind.DML, False, True),
    ("NOTIFY c", Kind.DML, False, False),
    ("CREATE TABLE t (a int)", Kind.DDL, False, False),
    ("CREATE INDEX i ON t (a)", Kind.DDL, False, False),
    ("CREATE TABLE t2 AS SELECT * FROM t", Kind.DDL, False, False),
    ("ALTER TABLE t ADD COLUMN c int", Kind.DDL, False, False),
    ("ALTER TABLE t RENAME TO u", Kind.DDL, False, False),
    ("ALTER TABLE t DROP COLUMN c", Kind.DDL, False, True),
    ("ALTER TABLE t DROP CONSTRAINT k", Kind.DDL, False, True),
    ("GRANT SELECT ON t TO r", Kind.DDL, False, False),
    ("REVOKE SELECT ON t FROM r", Kind.DDL, False, False),
    ("COMMENT ON TABLE t IS 'x'", Kind.DDL, False, False),
    ("CREATE ROLE r", Kind.DDL, False, False),
    ("ALTER SYSTEM SET work_mem = '1GB'", Kind.DDL, False, True),
    ("DROP TABLE t", Kind.DDL, False, True),
    ("DROP VIEW IF EXISTS v", Kind.DDL, False, True),
    ("DROP INDEX CONCURRENTLY i", Kind.DDL, False, True),
    ("DROP FUNCTION f(int)", Kind.DDL, False, True),
    ("DROP SCHEMA s CASCADE", Kind.DDL, False, True),
    ("DROP DATABASE d", Kind.DDL, False, True),
    ("DROP ROLE r", Kind.DDL, False, True),
    ("DROP OWNED BY r", Kind.DDL, False, True),
    ("TRUNCATE t", Kind.DDL, False, True),
    ("SELECT 1 INTO t2", Kind.DDL, False, False),
    ("BEGIN", Kind.TRANSACTION_CONTROL, False, False),
    ("START TRANSACTION READ ONLY", Kind.TRANSACTION_CONTROL, False, False),
    ("COMMIT", Kind.TRANSACTION_CONTROL, False, False),
    ("END", Kind.TRANSACTION_CONTROL, False, False),
    ("ROLLBACK", Kind.TRANSACTION_CONTROL, False, False),
    ("SAVEPOINT s", Kind.TRANSACTION_CONTROL, False, False),
    ("RELEASE SAVEPOINT s", Kind.TRANSACTION_CONTROL, False, False),
    ("PREPARE TRANSACTION 'x'", Kind.TRANSACTION_CONTROL, False, False),
    ("SET search_path = public", Kind.SESSION, False, False),
    ("SET LOCAL work_mem = '64MB'", Kind.SESSION, False, False),
    ("RESET search_path", Kind.SESSION, False, False),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", Kind.SESSION, False, False),
    ("DISCARD PLANS", Kind.SESSION, False, False),
    ("LISTEN c", Kind.SESSION, False, False),
    ("DEALLOCATE ALL", Kind.SESSION, False, False),
    ("SELECT pg_advisory_lock(1)", Kind.SESSION, False, False),
    ("VACUUM t", Kind.MAINTENANCE, False, False),
    ("VACUUM (FULL, ANALYZE) t", Kind.MAINTENANCE, False, False),
    ("ANALYZE t", Kind.MAINTENANCE, False, False),
    ("REINDEX TABLE t", Kind.MAINTENANCE, False, False),
    ("CLUSTER t USING i", Kind.MAINTENANCE, False, False),
    ("CHECKPOINT", Kind.MAINTENANCE, False, False),
    ("REFRESH MATERIALIZED VIEW mv", Kind.MAINTENANCE, False, False),
    ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", Kind.UTILITY, False, False),
    ("LOAD 'auto_explain'", Kind.UTILITY, False, False),
    ("COPY t TO PROGRAM 'curl http://x'", Kind.UTILITY, False, True),
    ("COPY t FROM PROGRAM 'cat /etc/passwd'", Kind.UTILITY, False, True),
    ("COPY t TO '/tmp/t.csv'", Kind.UTILITY, False, True),
    ("COPY (SELECT 1) TO '/tmp/x'", Kind.UTILITY, False, True),
    ("SELECT pg_terminate_backend(42)", Kind.UTILITY, False, True),
]


@pytest.mark.parametrize(("sql", "kind", "read_only", "destructive"), KINDS)
def test_classify_kind(sql: str, kind: Kind, read_only: bool, destructive: bool) -> None:
    [c] = classify_script(sql)
    assert (c.kind, c.read_only, c.destructive) == (kind, read_only, destructive)
    assert c.parse_error is None
    assert read_only or c.side_effects, "every non-read-only statement says why"
    assert not destructive or c.reasons, "every destructive statement says why"


def test_every_kind_is_covered_by_the_table() -> None:
    assert {row[1] for row in KINDS} == set(Kind) - {Kind.UNKNOWN}


@pytest.mark.parametrize(
    ("sql", "reason", "objects"),
    [
        (
            "DELETE FROM public.t",
            "DELETE without WHERE deletes every row of public.t",
            ("public.t",),
        ),
        ("UPDATE t SET a = 1", "UPDATE without WHERE changes every row of t", ("t",)),
        ("TRUNCATE a.t, u", "TRUNCATE deletes every row of a.t, u", ("a.t", "u")),
        (
            "DROP TABLE public.t, u CASCADE",
            "DROP TABLE drops public.t, u and every object",
            ("public.t", "u"),
        ),
        ("DROP SCHEMA s CASCADE", "DROP SCHEMA drops s and every object", ("s",)),
        ("DROP DATABASE prod", "DROP DATABASE drops prod", ("prod",)),
        ('DROP TABLE "My Table"', 'drops "My Table"', ('"My Table"',)),
        ("ALTER TABLE t DROP COLUMN c", "ALTER TABLE t drops column c and its data", ("t",)),
        ("ALTER TABLE t DROP CONSTRAINT k", "ALTER TABLE t drops constraint k", ("t",)),
        ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE without WHERE", ("t",)),
        ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "terminates a session", ()),
        ("SELECT lo_unlink(42)", "deletes a large object", ()),
        ("SELECT lo_export(42, '/tmp/x')", "writes a file on the database server", ()),
        ("SELECT pg_drop_replication_slot('s')", "drops a replication slot", ()),
    ],
)
def test_destructive_reasons_name_the_objects(
    sql: str, reason: str, objects: tuple[str, ...]
) -> None:
    [c] = classify_script(sql)
    assert c.destructive
    assert any(reason in r for r in c.reasons), c.reasons
    assert c.objects == objects


@pytest.mark.parametrize(
    ("sql", "effect"),
    [
        ("WITH x AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM x", "deletes rows of t"),
        ("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1", "inserts rows into t"),
        ("WITH x AS (UPDATE t SET a = 1 WHERE b RETURNING *) SELECT 1", "changes rows of t"),
        ("SELECT * INTO t2 FROM t", "creates table t2"),
        ("SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
        ("SELECT * FROM t FOR NO KEY UPDATE", "FOR NO KEY UPDATE"),
        ("SELECT * FROM t FOR SHARE SKIP LOCKED", "FOR SHARE"),
        ("SELECT * FROM t FOR KEY SHARE", "FOR KEY SHARE"),
        ("SELECT nextval('s')", "nextval()"),
        ("SELECT pg_catalog.setval('s', 1)", "setval()"),
        (
            "SELECT * FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity) q",
            "pg_terminate_backend()",
        ),
        ("SELECT 1 WHERE EXISTS (SELECT pg_cancel_backend(1))", "pg_cancel_backend()"),
        ("WITH c AS (SELECT nextval('s')) SELECT * FROM c", "nextval()"),
        ("SELECT set_config('search_path', 'x', false)", "set_config()"),
        ("SELECT pg_advisory_xact_lock(1)", "pg_advisory_xact_lock()"),
        ("SELECT pg_try_advisory_lock_shared(1)", "pg_try_advisory_lock_shared()"),
        ("SELECT pg_advisory_unlock_all()", "pg_advisory_unlock_all()"),
        ("SELECT lo_import('/etc/passwd')", "lo_import()"),
        ("SELECT lo_create(0)", "lo_create()"),
        ("SELECT lo_put(1, 0, 'x')", "lo_put()"),
        ("SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)", "dblink()"),
        ("SELECT dblink_exec('dbname=x', 'DROP TABLE t')", "dblink_exec()"),
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file()"),
        ("SELECT pg_read_binary_file('x')", "pg_read_binary_file()"),
        ("SELECT pg_ls_dir('.')", "pg_ls_dir()"),
        ("SELECT pg_stat_file('x')", "pg_stat_file()"),
        ("SELECT pg_reload_conf()", "pg_reload_conf()"),
        ("SELECT pg_rotate_logfile()", "pg_rotate_logfile()"),
        ("SELECT pg_switch_wal()", "pg_switch_wal()"),
        ("SELECT pg_create_logical_replication_slot('s', 'pgoutput')", "replication slot"),
        ("SELECT pg_create_physical_replication_slot('s')", "replication slot"),
        ("SELECT txid_current()", "transaction id"),
        ("SELECT pg_notify('c', 'x')", "pg_notify()"),
        ("SELECT query_to_xml('DELETE FROM t', true, true, '')", "query_to_xml()"),
        ("SELECT * FROM generate_series(1, nextval('s'))", "nextval()"),
        ("SELECT count(*) FILTER (WHERE nextval('s') > 0) FROM t", "nextval()"),
        ("COPY (SELECT nextval('s')) TO STDOUT", "nextval()"),
        ("COPY (DELETE FROM t WHERE a RETURNING *) TO STDOUT", "deletes rows of t"),
        ("EXPLAIN ANALYZE SELECT nextval('s')", "nextval()"),
        # issue 12: a cursor without HOLD ends with the script's transaction and is a read.
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "creates a cursor"),
    ],
)
def test_selects_with_side_effects_are_not_read_only(sql: str, effect: str) -> None:
    [c] = classify_script(sql)
    assert not c.read_only
    assert c.kind is not Kind.READ_ONLY
    assert any(effect in e for e in c.side_effects), c.side_effects
    assert isinstance(decide(c, "viewer", False), Reject)


def test_plain_explain_of_a_side_effect_is_read_only() -> None:
    [c] = classify_script("EXPLAIN SELECT nextval('s')")
    assert c.read_only


@pytest.mark.parametrize(
    "sql",
    [
        "SET ROLE postgres",
        "SET LOCAL ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
        "RESET ROLE",
        "RESET SESSION AUTHORIZATION",
        "RESET ALL",
        "SET default_transaction_read_only = off",
        "SET transaction_read_only = off",
        "SET TRANSACTION READ WRITE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "BEGIN READ WRITE",
        "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
        "SET statement_timeout = 0",
        "SET lock_timeout TO DEFAULT",
        "SET session_replication_role = replica",
        "DISCARD ALL",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT set_config(current_setting('x'), 'off', false)",
    ],
)
def test_guard_changes_escalate_and_are_rejected_below_dba(sql: str) -> None:
    [c] = classify_script(sql)
    assert c.escalates
    assert isinstance(decide(c, "viewer", False), Reject)
    analyst = decide(c, "analyst", False)
    assert isinstance(analyst, Reject)
    assert analyst.rule in {safety.RULE_GUARD, safety.RULE_ANALYST}
    assert decide(c, "dba", False) == Allow()
    assert isinstance(decide(c, "dba", True), Reject)


@pytest.mark.parametrize(
    "sql", ["SET search_path = app", "SET TRANSACTION READ ONLY", "BEGIN READ ONLY", "SHOW ROLE"]
)
def test_harmless_settings_do_not_escalate(sql: str) -> None:
    [c] = classify_script(sql)
    assert not c.escalates


# A connection's lookup (db.executor.function_volatility): bare names and schema.name keys.
VOLATILITY = {
    "my_fn": "v",
    "app.my_fn": "v",
    "stable_fn": "s",
    "pure_fn": "i",
    "random": "v",
    "pg_catalog.random": "v",
    "gen_random_uuid": "v",
}


@pytest.mark.parametrize(
    ("sql", "read_only", "named"),
    [
        ("SELECT my_fn(1)", False, "my_fn"),
        ("SELECT * FROM t WHERE id IN (SELECT my_fn(id) FROM u)", False, "my_fn"),
        ("WITH c AS (SELECT app.my_fn(1)) SELECT * FROM c", False, "app.my_fn"),
        ("SELECT stable_fn(1), pure_fn(2)", True, None),
        ("SELECT random(), gen_random_uuid(), pg_sleep(0)", True, None),
    ],
)
def test_volatility_map_marks_unknown_volatile_functions(
    sql: str, read_only: bool, named: str | None
) -> None:
    [c] = classify_script(sql, VOLATILITY)
    assert c.read_only is read_only
    assert c.depends_on == ()
    if named:
        assert any(f"volatile function {named}()" in e for e in c.side_effects)


@pytest.mark.parametrize(
    ("sql", "depends_on"),
    [
        ("SELECT my_fn(1)", ("my_fn",)),
        ("SELECT stable_fn(1), pure_fn(2)", ("stable_fn", "pure_fn")),
        ("WITH c AS (SELECT app.my_fn(1)) SELECT * FROM c", ("app.my_fn",)),
        ("SELECT pg_catalog.no_such_builtin()", ("pg_catalog.no_such_builtin",)),
    ],
)
def test_offline_a_function_that_is_not_built_in_is_a_dependency(
    sql: str, depends_on: tuple[str, ...]
) -> None:
    # issue 12: offline, a call the classifier cannot resolve is not read-only (it was).
    [c] = classify_script(sql)
    assert not c.read_only
    assert c.depends_on == depends_on
    assert any("cannot be resolved without a connection" in e for e in c.side_effects)
    assert isinstance(decide(c, "viewer", False), Reject)


def test_on_a_connection_a_missing_function_is_a_dependency() -> None:
    [c] = classify_script("SELECT not_in_catalog(1)", VOLATILITY)
    assert not c.read_only
    assert c.depends_on == ("not_in_catalog",)
    assert any("cannot be resolved on this connection" in e for e in c.side_effects)


def test_builtins_resolve_offline() -> None:
    [c] = classify_script("SELECT count(*), lower(x), now(), random(), pg_catalog.upper(x) FROM t")
    assert c.read_only and c.depends_on == ()


def test_volatility_map_is_passed_through_classify() -> None:
    [stmt] = split("SELECT my_fn(1)")
    assert "volatile function my_fn()" in classify(stmt, VOLATILITY).side_effects[0]
    assert classify(stmt).depends_on == ("my_fn",)


def test_function_names_lists_every_call_for_the_pg_proc_lookup() -> None:
    sql = (
        "WITH c AS (SELECT a.f1(1)) SELECT NEXTVAL('s'), \"MixedCase\"(2)"
        " FROM generate_series(1, 2) WHERE x IN (SELECT f2()) AND EXISTS (SELECT 1 FROM c)"
    )
    [stmt] = split(sql)
    assert function_names(stmt) == {"f1", "nextval", "MixedCase", "generate_series", "f2"}


@pytest.mark.parametrize(
    ("sql", "objects"),
    [
        ("SELECT * FROM public.t JOIN u USING (id)", ("public.t", "u")),
        ("WITH x AS (SELECT * FROM t) SELECT * FROM x", ("t",)),
        ("INSERT INTO app.t SELECT * FROM u", ("app.t",)),
        ("VACUUM a, b", ("a", "b")),
        ('CREATE TABLE "My T" (a int)', ('"My T"',)),
    ],
)
def test_objects_are_schema_qualified_as_written(sql: str, objects: tuple[str, ...]) -> None:
    assert classify_script(sql)[0].objects == objects


@pytest.mark.parametrize(
    "script", ["SELEC 1", "SELECT 'x", "DELETE FROM t WHERE", "SELECT 1; DROP"]
)
def test_unparseable_script_is_one_destructive_classification(script: str) -> None:
    [c] = classify_script(script)
    assert (c.kind, c.destructive, c.read_only) == (Kind.UNKNOWN, True, False)
    assert (c.start, c.end, c.text) == (0, len(script), script)
    assert c.parse_error and "line 1, column" in c.parse_error
    assert c.reasons[0].startswith("could not be parsed; treated as destructive")


def test_classify_script_fails_closed_when_the_classifier_breaks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(safety, "_analyse", broken)
    [c] = classify_script("SELECT 1")
    assert c.destructive and not c.read_only
    assert "classifier failed" in (c.parse_error or "")


def _outcome(decision: safety.Decision) -> str:
    return type(decision).__name__.lower()


# sql -> expected outcome for viewer, analyst, dba, admin on a writable connection
MATRIX = [
    ("SELECT * FROM t", "allow", "allow", "allow", "allow"),
    ("EXPLAIN DELETE FROM t", "allow", "allow", "allow", "allow"),
    ("INSERT INTO t VALUES (1)", "reject", "allow", "allow", "allow"),
    ("UPDATE t SET a = 1 WHERE id = 1", "reject", "allow", "allow", "allow"),
    ("DELETE FROM t", "reject", "confirm", "confirm", "confirm"),
    ("UPDATE t SET a = 1", "reject", "confirm", "confirm", "confirm"),
    ("WITH x AS (DELETE FROM t RETURNING 1) SELECT 1", "reject", "confirm", "confirm", "confirm"),
    ("SELECT nextval('s')", "reject", "allow", "allow", "allow"),
    ("SELECT * FROM t FOR UPDATE", "reject", "allow", "allow", "allow"),
    ("SET search_path = app", "reject", "allow", "allow", "allow"),
    ("SET ROLE postgres", "reject", "reject", "allow", "allow"),
    ("DO $$ BEGIN END $$", "reject", "confirm", "confirm", "confirm"),
    ("CALL p()", "reject", "confirm", "confirm", "confirm"),
    ("CREATE TABLE t2 (a int)", "reject", "reject", "allow", "allow"),
    ("SELECT 1 INTO t2", "reject", "reject", "allow", "allow"),
    ("DROP TABLE t", "reject", "reject", "confirm", "confirm"),
    ("TRUNCATE t", "reject", "reject", "confirm", "confirm"),
    ("ALTER TABLE t DROP COLUMN c", "reject", "reject", "confirm", "confirm"),
    ("ALTER TABLE t RENAME TO u", "reject", "reject", "allow", "allow"),
    ("GRANT SELECT ON t TO r", "reject", "reject", "allow", "allow"),
    ("VACUUM t", "reject", "reject", "allow", "allow"),
    ("BEGIN", "reject", "reject", "allow", "allow"),
    ("COMMIT", "reject", "reject", "allow", "allow"),
    ("LOCK TABLE t", "reject", "reject", "allow", "allow"),
    ("SELECT pg_cancel_backend(1)", "reject", "reject", "allow", "allow"),
    ("SELECT pg_terminate_backend(1)", "reject", "reject", "confirm", "confirm"),
    ("COPY t TO PROGRAM 'x'", "reject", "reject", "confirm", "confirm"),
    ("SELEC 1", "reject", "reject", "confirm", "confirm"),
]


@pytest.mark.parametrize(("sql", *ROLES), MATRIX)
def test_role_matrix(sql: str, viewer: str, analyst: str, dba: str, admin: str) -> None:
    expected = dict(zip(ROLES, (viewer, analyst, dba, admin), strict=True))
    got = {role: _outcome(decide_script(classify_script(sql), role, False)) for role in ROLES}
    assert got == expected


@pytest.mark.parametrize("sql", [row[0] for row in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_read_only_connection_allows_only_read_only_statements(sql: str, role: str) -> None:
    classifications = classify_script(sql)
    decision = decide_script(classifications, role, True, connection_name="prod")
    if all(c.read_only for c in classifications):
        assert decision == Allow()
    else:
        assert isinstance(decision, Reject)
        if role != "viewer":
            assert decision.rule == safety.RULE_READ_ONLY_CONNECTION
            assert "connection 'prod' is read-only" in decision.message


def test_viewer_rejection_names_the_rule() -> None:
    decision = decide_script(classify_script("DELETE FROM t"), "viewer", False)
    assert decision == Reject(
        "viewer may run read-only statements only",
        "viewer may run read-only statements only (DELETE deletes rows of t)",
    )


def test_unparseable_confirmation_for_dba_says_why() -> None:
    decision = decide_script(classify_script("DROP TABLE"), "dba", False)
    assert isinstance(decision, Confirm)
    assert decision.reason.startswith("could not be parsed; treated as destructive")


def test_unknown_role_is_rejected_even_for_reads() -> None:
    decision = decide_script(classify_script("SELECT 1"), "superuser", False)
    assert isinstance(decision, Reject)
    assert decision.rule == safety.RULE_UNKNOWN_ROLE


def test_decide_script_combines_confirmations_and_lets_reject_win() -> None:
    script = "DELETE FROM a; SELECT 1; DROP TABLE b; TRUNCATE a"
    decision = decide_script(classify_script(script), "dba", False)
    assert isinstance(decision, Confirm)
    assert decision.objects == ("a", "b")
    for part in ("every row of a", "DROP TABLE drops b", "TRUNCATE deletes every row of a"):
        assert part in decision.reason
    rejected = decide_script(classify_script("SELECT 1; DELETE FROM a; VACUUM a"), "analyst", False)
    assert isinstance(rejected, Reject)
    assert rejected.message.startswith("statement 3: ")
    assert decide_script(classify_script("SELECT 1; SELECT 2"), "viewer", False) == Allow()
