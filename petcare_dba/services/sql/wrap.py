"""Execute stage's proof: a statement composed around vetted user text is that text, no more.

Export wraps a vetted SELECT in `SELECT * FROM (...) LIMIT n` and `COPY (...) TO STDOUT`; EXPLAIN
prefixes `EXPLAIN (options)`; the engine's cursor path prefixes `DECLARE c CURSOR FOR`. Each
composed text is parsed again with PostgreSQL's parser (pglast) before it is sent, and must be
exactly one statement of the expected shape whose inner tree equals the tree that was classified
(locations aside) — so a `)` or a comment in the user's text cannot close the wrapper early and add
`TO PROGRAM`, a second statement or other options (reliability Q13). The executor also sends
every composed statement over the extended protocol, which runs one statement per message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast, parser

from petcare_dba.errors import Refused

RULE = "a statement the app composes holds exactly the statement that was checked"
_CURSOR_OPT_HOLD = 0x0020  # src/include/nodes/parsenodes.h: WITH HOLD outlives the transaction
# Every source-position field of pglast's nodes (PostgreSQL 18's parser added list bounds to
# ARRAY[...] and IN (...) lists): without them, `SELECT ARRAY['a']` was refused.
_POSITIONS = frozenset(
    {
        "location",
        "stmt_location",
        "stmt_len",
        "arg_location",
        "conninfo_location",
        "name_location",
        "payload_location",
        "list_start",
        "list_end",
        "rexpr_list_start",
        "rexpr_list_end",
    }
)


def plain(node: Any) -> Any:
    """The parse tree as plain data without source positions (comparable across texts)."""
    if isinstance(node, ast.Node):
        node = node(skip_none=True)
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items() if k not in _POSITIONS}
    if isinstance(node, list | tuple):
        return [plain(v) for v in node]
    return node


def _refuse(what: str) -> Refused:
    return Refused(f"refused: {what}", hint=f"rule: {RULE}")


def single(composed: str) -> ast.Node:
    """The one statement of `composed`; Refused if it does not parse or holds several."""
    try:
        raws = parser.parse_sql(composed)
    except parser.ParseError as exc:
        raise _refuse(f"the composed statement does not parse ({exc.args[0]})") from exc
    if len(raws) != 1 or raws[0].stmt is None:
        raise _refuse(f"the composed text holds {len(raws)} statements, not 1")
    node: ast.Node = raws[0].stmt
    return node


def _same(inner: Any, vetted: ast.Node, where: str) -> None:
    if inner is None or plain(inner) != plain(vetted):
        raise _refuse(f"the {where} does not hold exactly the statement that was checked")


def capped_select(node: ast.Node) -> Any:
    """The user's query inside `SELECT * FROM (<query>) AS petcare_export LIMIT n`."""
    if (
        not isinstance(node, ast.SelectStmt)
        or node.limitCount is None
        or node.whereClause is not None
        or node.withClause is not None
        or not node.fromClause
        or len(node.fromClause) != 1
        or not isinstance(node.fromClause[0], ast.RangeSubselect)
    ):
        return None
    return node.fromClause[0].subquery


def prove_capped(composed: str, vetted: ast.Node) -> None:
    """`composed` is the export's row-capped SELECT around `vetted`."""
    _same(capped_select(single(composed)), vetted, "export's capped SELECT")


def prove_copy_out(composed: str, vetted: ast.Node) -> None:
    """`composed` is `COPY (capped vetted) TO STDOUT`: no file, no program, not FROM."""
    node = single(composed)
    if (
        not isinstance(node, ast.CopyStmt)
        or node.is_from
        or node.is_program
        or node.filename is not None
        or node.relation is not None
        or node.query is None
    ):
        raise _refuse("the export's COPY is not a plain COPY (...) TO STDOUT")
    _same(capped_select(node.query), vetted, "export's COPY")


def prove_explain(composed: str, vetted: ast.Node, options: set[str]) -> None:
    """`composed` is `EXPLAIN (options) <vetted>` with exactly the given option names."""
    node = single(composed)
    if not isinstance(node, ast.ExplainStmt):
        raise _refuse("the composed EXPLAIN is not an EXPLAIN statement")
    names = {str(o.defname) for o in node.options or () if isinstance(o, ast.DefElem)}
    if names != options:
        raise _refuse(f"the composed EXPLAIN has options {sorted(names)}, not {sorted(options)}")
    _same(node.query, vetted, "composed EXPLAIN")


# Recent proofs (issue 16, local overhead): the composed text -> the very tree it was proven to
# hold. plan.analyse hands out the same tree object for a text it analysed before, and the
# engine's cursor has a fixed name inside its own transaction, so a repeated statement composes
# the same text around the same tree and its proof (a parse and two tree walks, more CPU than a
# small query's server time) is not done again. A hit needs both the exact text and the same
# tree object, so it stands for exactly the proof that was done; bounded, cleared when full.
_PROVEN: dict[str, ast.Node] = {}
_PROVEN_MAX = 512


def _remember(composed: str, vetted: ast.Node) -> None:
    if len(_PROVEN) >= _PROVEN_MAX:
        _PROVEN.clear()
    _PROVEN[composed] = vetted


def prove_declare(composed: str, vetted: ast.Node) -> None:
    """`composed` is `DECLARE name NO SCROLL CURSOR FOR <vetted>` (no WITH HOLD)."""
    if _PROVEN.get(composed) is vetted:
        return
    node = single(composed)
    if not isinstance(node, ast.DeclareCursorStmt) or (node.options or 0) & _CURSOR_OPT_HOLD:
        raise _refuse("the composed cursor is not a DECLARE ... CURSOR FOR statement")
    _same(node.query, vetted, "cursor's DECLARE")
    _remember(composed, vetted)


def verifier(prove: Callable[[str, ast.Node], None], vetted: ast.Node) -> Callable[[str], None]:
    """A callback for db/ code: it proves the final composed text just before sending it."""
    return lambda composed: prove(composed, vetted)
