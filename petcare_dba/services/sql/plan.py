"""The plan stage of a run: split, classify, decide and choose how each statement runs.

Second stage of the path engine.run → intake → plan → execute → record; it calls only the classifier
below it (refusals, safety, decide, functions, parse) and never a later stage. `analyse` splits a
script with PostgreSQL's parser (pglast) and classifies every statement; `refusals.check_syntax` and
`refusals.decide` give the `Refusal` a caller records and raises (the engine, the explicit
transaction); `plan` adds what execution needs: whether the whole run takes the read-only path,
which statements need a server-side cursor, which cannot run inside a transaction block (VACUUM,
CONCURRENTLY ...), and whether the pooled connection must be discarded afterwards because a
statement changed session state. `early` and `final` are those steps in the engine's order, before
and after the connection's pg_proc lookup. Only `resolve` reads from a database.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pglast import ast

from petcare_dba.db.target import Method, executor
from petcare_dba.errors import PetcareError, Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.sql import safety
from petcare_dba.services.sql.functions import needs_lookup
from petcare_dba.services.sql.parse import enum_name, walk
from petcare_dba.services.sql.refusals import Ask, Refusal, Vet, check_syntax, decide
from petcare_dba.services.sql.safety import Classification, Kind, Statement

RULE_TRANSACTION = say("msg.sql.rule.transaction")
_WRAPPER_START = {"TRANS_STMT_BEGIN", "TRANS_STMT_START"}
_WRAPPER_END = {"TRANS_STMT_COMMIT"}
_INSIDE_OK = {"TRANS_STMT_SAVEPOINT", "TRANS_STMT_RELEASE", "TRANS_STMT_ROLLBACK_TO"}
_NO_TX_NODES = (
    ast.CreatedbStmt,
    ast.DropdbStmt,
    ast.AlterSystemStmt,
    ast.CreateTableSpaceStmt,
    ast.DropTableSpaceStmt,
)
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


@dataclass(frozen=True)
class Step:
    """One statement to run: its parse, its classification and how to execute it."""

    statement: Statement | None  # None for text pglast could not parse (dba confirmed it)
    classification: Classification
    method: Method
    autocommit: bool

    @property
    def text(self) -> str:
        return self.classification.text

    @property
    def index(self) -> int:
        return self.classification.index


@dataclass(frozen=True)
class Plan:
    """Everything `engine.run` decided before the first statement is sent."""

    steps: tuple[Step, ...]
    read_only: bool
    discard_connection: bool
    skipped: tuple[int, ...] = ()  # indices of a BEGIN ... COMMIT wrapper the engine replaces


# Offline analyses of recent texts (issue 16, local overhead): parsing, classifying and proving a
# short statement costs more CPU than a small query's whole server time, and an editor, a
# dashboard or a project run sends the same texts again and again. Keyed by the exact text, so a
# hit is what a fresh parse would give (the classifier is a pure function of the text without a
# volatility map); values are tuples of frozen dataclasses and parse trees nothing mutates.
# Bounded in count and in text size, so hostile texts cannot make it grow.
ANALYSED_MAX = 256
ANALYSED_TEXT_MAX = 4096


@functools.lru_cache(maxsize=ANALYSED_MAX)
def _analysed(script: str) -> tuple[tuple[Statement, ...], tuple[Classification, ...]]:
    statements, found = _analyse(script, None)
    return tuple(statements), tuple(found)


def analyse(
    script: str, volatility: Mapping[str, str] | None = None
) -> tuple[list[Statement], list[Classification]]:
    """Split and classify; on a syntax error returns ([], [the fail-closed classification])."""
    if volatility is None and len(script) <= ANALYSED_TEXT_MAX:
        statements, found = _analysed(script)
        return list(statements), list(found)
    return _analyse(script, volatility)


def _analyse(
    script: str, volatility: Mapping[str, str] | None
) -> tuple[list[Statement], list[Classification]]:
    try:
        statements = safety.split(script)
    except ValidationError:
        return [], safety.classify_script(script)
    try:
        return statements, [safety.classify(s, volatility) for s in statements]
    except Exception:  # fail closed, exactly as classify_script does for a classifier bug
        return [], safety.classify_script(script)


def unknown_functions(
    statements: Sequence[Statement], classifications: Sequence[Classification]
) -> list[str]:
    """Functions whose pg_proc entries decide: every call of a statement that is read-only or
    waits on an unresolved function, except names a rule already refuses (issue 12: builtin
    names too, so that an overload in another schema that shadows them is seen)."""
    names: set[str] = set()
    if len(statements) != len(classifications):  # unparsed text: nothing to look up
        return []
    for stmt, c in zip(statements, classifications, strict=True):
        if c.read_only or c.depends_on:
            names |= {n for n in _shape(stmt)[0] if needs_lookup(n)}
    return sorted(names)


def _shape(stmt: Statement) -> tuple[frozenset[str], Method]:
    """The functions a statement calls and how it is fetched (two walks of its tree).

    Remembered for short texts like `analyse`: a Statement compares by its text and place, and
    the same text parses to the same tree, so a remembered answer is exactly a fresh one.
    """
    if len(stmt.text) <= ANALYSED_TEXT_MAX:
        return _remembered_shape(stmt)
    return frozenset(safety.function_names(stmt)), method_for(stmt.node)


@functools.lru_cache(maxsize=ANALYSED_MAX)
def _remembered_shape(stmt: Statement) -> tuple[frozenset[str], Method]:
    return frozenset(safety.function_names(stmt)), method_for(stmt.node)


def needs_autocommit(node: ast.Node) -> bool:
    """True for statements PostgreSQL refuses inside a transaction block."""
    if isinstance(node, _NO_TX_NODES):
        return True
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(node, ast.IndexStmt | ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(
            isinstance(p, ast.DefElem) and p.defname == "concurrently" for p in node.params or ()
        )
    return False


def method_for(node: ast.Node | None) -> Method:
    """CURSOR for a plain query (DECLARE accepts it), BUFFERED for everything else."""
    if not isinstance(node, ast.SelectStmt) or node.intoClause is not None:
        return Method.BUFFERED
    # DECLARE refuses data-modifying WITH clauses.
    if any(isinstance(n, _WRITES) for n in walk(node)):
        return Method.BUFFERED
    return Method.CURSOR


def _tx_kind(stmt: Statement | None) -> str | None:
    if stmt is not None and isinstance(stmt.node, ast.TransactionStmt):
        return enum_name(stmt.node.kind)
    return None


def plan(
    statements: Sequence[Statement],
    classifications: Sequence[Classification],
    *,
    mode: str,
    read_only_path: bool,
) -> Plan:
    """Choose methods and transaction handling; raise Refused for stray transaction control."""
    if not statements:  # unparseable text a dba confirmed: send it as one statement
        c = classifications[0]
        return Plan((Step(None, c, Method.BUFFERED, False),), read_only_path, True)
    items = list(zip(statements, classifications, strict=True))
    skipped: list[int] = []
    # A script written as BEGIN; ...; COMMIT; means what mode='transaction' already does.
    if (
        mode == "transaction"
        and len(items) > 2
        and _tx_kind(items[0][0]) in _WRAPPER_START
        and _tx_kind(items[-1][0]) in _WRAPPER_END
    ):
        skipped = [items[0][0].index, items[-1][0].index]
        items = items[1:-1]
    for stmt, c in items:
        kind = _tx_kind(stmt)
        if kind is not None and not (mode == "transaction" and kind in _INSIDE_OK):
            raise Refused(
                say("msg.sql.tx_control", rule=RULE_TRANSACTION, n=c.index + 1, command=c.command),
                hint=say("msg.sql.tx_control.hint"),
            )
    steps = tuple(Step(stmt, c, _shape(stmt)[1], needs_autocommit(stmt.node)) for stmt, c in items)
    if mode == "transaction" and len(steps) > 1:
        for step in steps:
            if step.autocommit:
                raise ValidationError(
                    say(
                        "msg.sql.no_tx_block",
                        n=step.index + 1,
                        command=step.classification.command,
                    ),
                    hint=say("msg.sql.no_tx_block.hint"),
                )
    read_only = read_only_path or all(s.classification.read_only for s in steps)
    discard = any(s.autocommit or _changes_session(s.classification) for s in steps)
    return Plan(steps, read_only, discard, tuple(skipped))


def _changes_session(c: Classification) -> bool:
    # DML leaves the session as it found it; SET, PREPARE, LISTEN, temp tables, DO blocks and
    # guard changes may not, so such a connection is closed instead of going back to the pool.
    if c.read_only:
        return False
    return c.escalates or c.unchecked or c.kind is not Kind.DML


def resolve(
    conn: Any, sql_text: str, statements: list[Statement], found: list[Classification]
) -> tuple[list[Statement], list[Classification]] | None:
    """Classify again with the target's pg_proc volatility, if any call needs it (else None)."""
    names = unknown_functions(statements, found)
    if not names:
        return None
    return analyse(sql_text, executor.function_volatility(conn, names))


@dataclass(frozen=True)
class Analysis:
    """A script split, classified and planned: what `early` hands to `final`, and `final` on."""

    statements: list[Statement]
    found: list[Classification]
    plan: Plan


def early(sql_text: str, ask: Ask, vet: Vet | None = None) -> Analysis | Refusal:
    """The steps that need no connection, in the engine's order: split and classify, the entry's
    own rule (`vet`), check the syntax, the decisions that need no pg_proc lookup (refused before
    connecting), the plan."""
    statements, found = analyse(sql_text)
    if not found:
        raise ValidationError(say("msg.sql.no_statement"))
    refused = (
        (vet(statements, found, False) if vet is not None else None)
        or check_syntax(sql_text, found, ask.role, ask.confirmed)
        or decide(found, ask, final=False)
    )
    if refused is not None:
        return refused
    try:
        chosen = plan(statements, found, mode=ask.mode, read_only_path=ask.read_only_path)
    except PetcareError as exc:
        return Refusal(found[0], "refused", exc)
    return Analysis(statements, found, chosen)


def final(
    conn: Any, sql_text: str, analysis: Analysis, ask: Ask, vet: Vet | None = None
) -> Analysis | Refusal:
    """Classify again with the connection's pg_proc volatility if a call needs it (`conn=None`:
    no lookup), apply the entry's rule, decide for good and plan what was resolved (a plan that
    fails now raises, as it did before)."""
    resolved = None
    if conn is not None:
        resolved = resolve(conn, sql_text, analysis.statements, analysis.found)
    statements, found = resolved or (analysis.statements, analysis.found)
    refused = (vet(statements, found, True) if vet is not None else None) or decide(
        found, ask, final=True
    )
    if refused is not None:
        return refused
    if resolved is None:
        return analysis
    chosen = plan(statements, found, mode=ask.mode, read_only_path=ask.read_only_path)
    return Analysis(statements, found, chosen)
