"""Keeps the target boundary honest: one opener of target transactions, target queries by name.

(a) In petcare_dba/db/target/ only `guards` (the opener) sends BEGIN, sets transaction-local
settings or an access mode, and every connection is opened in autocommit mode, so psycopg never
sends a BEGIN of its own; the named queries that open or configure a transaction are used by the
opener only. (b) No module of petcare_dba outside db/ holds SQL text: a string literal (f-strings
with their holes filled) that starts with a statement keyword and parses as SQL is an offender,
unless it is listed below with the reason it is only ever shown, never sent. (c) The named-query
API refuses anything that is not a query name, before touching the connection.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, cast

import pytest
from pglast import parser

from petcare_dba.db import queries
from petcare_dba.db.target.session import TargetSession, named, whatif_prepare
from petcare_dba.errors import NotFound, Refused

PACKAGE = Path(__file__).resolve().parents[1] / "petcare_dba"
TARGET = PACKAGE / "db" / "target"
OPENER = TARGET / "guards.py"
TARGET_MODULES = sorted(p for p in TARGET.glob("*.py") if p != OPENER)

# Text a statement of the opener's kind: BEGIN/START, SET LOCAL/TRANSACTION, set_config(..., true).
_OPENER_TEXT = re.compile(
    r"\bBEGIN\b|\bSTART\s+TRANSACTION\b|\bSET\s+(LOCAL|TRANSACTION|SESSION\s+CHARACTERISTICS)\b"
    r"|\bset_config\s*\(",
    re.IGNORECASE,
)
_SQL_START = re.compile(
    r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|EXPLAIN|COPY|SET|BEGIN)\s+\S",
    re.IGNORECASE,
)
# Literals that are SQL but never sent by the app: shown to a person, who may run them by hand.
SHOWN_ONLY = {
    "services/explorer/ddl.py": "the explorer's DDL view rebuilds a relation's CREATE statements "
    "for the user to read and copy; the app never executes them",
    "services/connections/privileges.py": "read_role_sql is the script an admin runs by hand on "
    "the target to create the least-privilege role; shown, never executed",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal but docstrings; f-string holes read as `x`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inner:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            out.append((node.lineno, text))
    return out


def _opener_queries() -> set[str]:
    """Named queries that open a transaction or set something for it (used by the opener only)."""
    return {
        name
        for name, q in queries.all_queries().items()
        if re.match(r"\s*BEGIN\b", queries.bare(name))
        or re.search(r"set_config\([^;]*,\s*true\)", q.text, re.IGNORECASE | re.DOTALL)
    }


@pytest.mark.parametrize("path", TARGET_MODULES, ids=lambda p: p.name)
def test_only_the_opener_begins_or_configures_a_target_transaction(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    opener_names = _opener_queries()
    for line, text in _literals(path):
        assert not _OPENER_TEXT.search(text), (
            f"{path.name}:{line}: {text[:60]!r} opens or configures a transaction; "
            "only db/target/guards.py may (guards.begin / guarded / set_local)"
        )
        assert text not in opener_names, (
            f"{path.name}:{line}: query {text!r} opens or configures a transaction; "
            "only the opener sends it"
        )
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                assert not (
                    isinstance(target, ast.Attribute)
                    and target.attr in ("read_only", "isolation_level", "autocommit")
                ), f"{path.name}:{node.lineno}: sets .{target.attr}; open through guards instead"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr != "transaction", (
                f"{path.name}:{node.lineno}: conn.transaction() may send its own BEGIN; use "
                "guards.guarded, or guards.savepoint inside it"
            )
            if node.func.attr in ("set_read_only", "set_isolation_level", "set_autocommit"):
                raise AssertionError(f"{path.name}:{node.lineno}: {node.func.attr}")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
            # connect.py defines the helper (its own psycopg.connect passes the caller's mode).
            if name == "connect" and path.name != "connect.py":
                keywords = {k.arg: k.value for k in node.keywords}
                value = keywords.get("autocommit")
                assert isinstance(value, ast.Constant) and value.value is True, (
                    f"{path.name}:{node.lineno}: a target connection must be opened with "
                    "autocommit=True, so that only the opener sends BEGIN"
                )


def test_the_opener_is_the_one_place_that_begins() -> None:
    text = OPENER.read_text(encoding="utf-8")
    assert "def begin(" in text and "def guarded(" in text
    # Every BEGIN the opener may send is a named query whose text starts with BEGIN.
    begins = {n for n in _opener_queries() if re.match(r"\s*BEGIN\b", queries.bare(n))}
    assert {"engine_begin_read_only", "engine_begin_read_write"} <= begins
    assert "target_begin_repeatable_read_only" in begins


def _sql_literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for line, text in _literals(path):
        if not _SQL_START.match(text):
            continue
        try:
            parser.parse_sql(text)
        except parser.ParseError:
            continue  # prose ("Create a user", "set PETCARE_…"), a fragment, not a statement
        found.append((line, text))
    return found


OUTSIDE_DB = sorted(
    p for p in PACKAGE.rglob("*.py") if "db" not in p.relative_to(PACKAGE).parts[:1]
)


@pytest.mark.parametrize("path", OUTSIDE_DB, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sql_text_outside_db(path: Path) -> None:
    rel = path.relative_to(PACKAGE).as_posix()
    found = _sql_literals(path)
    if rel in SHOWN_ONLY:
        return
    assert not found, (
        f"{rel}: SQL text {found[0][1][:70]!r} (line {found[0][0]}); put it in a named query "
        "(petcare_dba/sql/*.sql) and compose identifiers with psycopg.sql inside db/"
    )


@pytest.mark.parametrize("rel", sorted(SHOWN_ONLY))
def test_each_shown_only_exception_still_holds_sql(rel: str) -> None:
    # An exception that no longer matches anything must go, so the list cannot grow stale.
    assert _sql_literals(PACKAGE / rel), f"{rel} holds no SQL text any more: drop its exception"


def test_the_checker_sees_the_offences_it_must() -> None:
    # The scanner itself, on text it must flag and prose it must not.
    for text in (
        "SELECT max(version) FROM petcare.schema_migrations",
        "  with t AS (SELECT 1) SELECT * FROM t",
        "EXPLAIN (FORMAT JSON) EXECUTE petcare_whatifx",
        "DELETE FROM t WHERE id = x",
    ):
        assert _SQL_START.match(text)
        parser.parse_sql(text)
    for prose in ("Create a user (admins only).", "set PETCARE_GEMINI_API_KEY", "Delete a channel"):
        with pytest.raises(parser.ParseError):
            parser.parse_sql(prose)


RAW = [
    "SELECT 1",
    "select * from pg_catalog.pg_roles",
    "DEALLOCATE ALL",
    " mon_target_database",
    "mon_target_database; DROP TABLE t",
    "mon_target_database --",
    "no_such_query_name",
    "",
]


@pytest.mark.parametrize("text", RAW)
def test_the_named_query_api_refuses_anything_but_a_name(text: str) -> None:
    # No connection at all: the refusal comes before anything could be sent.
    s = TargetSession(cast(Any, None))
    for call in (s.rows, s.row, s.value):
        with pytest.raises(Refused, match="not a named query"):
            call(text)
    with pytest.raises(Refused):
        named(text)


@pytest.mark.parametrize(
    "file", ["../../../etc/passwd", "0001_unindexed_foreign_keys.sql", "SELECT 1", "9999_none"]
)
def test_lints_are_loaded_by_name_only(file: str) -> None:
    s = TargetSession(cast(Any, None))
    with pytest.raises(NotFound):
        s.lint(file)


def test_a_what_if_prepare_is_only_the_template() -> None:
    s = TargetSession(cast(Any, None))
    for text in ("DROP TABLE t", "PREPARE other AS SELECT 1", whatif_prepare("")):
        with pytest.raises(Refused):
            s.prepare(text)
