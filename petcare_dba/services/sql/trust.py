"""Beside the path, a leaf: may a statement from the statistics views be planned (U2).

Statement text in pg_stat_statements or pg_stat_activity was written by any user of the target
database, and planning it runs code: the planner folds IMMUTABLE functions over constants,
evaluates partial-index predicates, row-security policies, operator estimators and type input
functions. So before the index what-if plans such a statement, `refusals()` names everything in
it that is not built into PostgreSQL: each function, operator and type it names must resolve
(under the session's search_path, every candidate of that name) to a `pg_catalog` object owned by
the bootstrap superuser; each relation must be a plain or partitioned table or a materialized
view, without row security, whose columns have built-in types and whose indexes, defaults,
constraints, policies, rules and statistics (for it and every partition or child) depend on
built-in functions, operators and types only. A few built-in functions run SQL text of their own
(`query_to_xml`, `ts_stat` ...) and are refused too. An empty answer means nothing but
PostgreSQL's own code can run while planning; the plan itself then runs READ ONLY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, enums, parser, visitors

from petcare_dba.db.target import TargetSession

# Built-in functions that run SQL text given as an argument: "built in" says nothing about them.
RUNS_SQL = frozenset(
    {
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "table_to_xml",
        "table_to_xmlschema",
        "table_to_xml_and_xmlschema",
        "schema_to_xml",
        "schema_to_xmlschema",
        "schema_to_xml_and_xmlschema",
        "database_to_xml",
        "database_to_xmlschema",
        "database_to_xml_and_xmlschema",
        "ts_stat",
        "ts_rewrite",
    }
)
_IMPLIED_OPS = {
    enums.A_Expr_Kind.AEXPR_DISTINCT: ("=",),
    enums.A_Expr_Kind.AEXPR_NOT_DISTINCT: ("=",),
    enums.A_Expr_Kind.AEXPR_NULLIF: ("=",),
    enums.A_Expr_Kind.AEXPR_BETWEEN: (">=", "<="),
    enums.A_Expr_Kind.AEXPR_NOT_BETWEEN: ("<", ">"),
    enums.A_Expr_Kind.AEXPR_BETWEEN_SYM: (">=", "<="),
    enums.A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM: ("<", ">"),
    enums.A_Expr_Kind.AEXPR_SIMILAR: ("~", "!~"),
}


@dataclass
class Names:
    """What a statement names, each as (schema or None, name)."""

    functions: set[tuple[str | None, str]] = field(default_factory=set)
    operators: set[tuple[str | None, str]] = field(default_factory=set)
    types: set[tuple[str | None, str]] = field(default_factory=set)
    relations: set[tuple[str | None, str]] = field(default_factory=set)
    ctes: set[str] = field(default_factory=set)


def _qualified(parts: Any) -> tuple[str | None, str] | None:
    names = [str(p.sval) for p in parts or () if isinstance(p, ast.String)]
    if not names:
        return None
    return (names[-2] if len(names) > 1 else None, names[-1])


class _Collector(visitors.Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names = Names()

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        name = _qualified(node.funcname)
        if name:
            self.names.functions.add(name)

    def visit_A_Expr(self, ancestors: Any, node: ast.A_Expr) -> None:
        name = _qualified(node.name)
        if name and not name[1].isalpha():
            self.names.operators.add(name)
        for op in _IMPLIED_OPS.get(node.kind, ()) if node.kind is not None else ():
            self.names.operators.add((None, op))
        if node.kind == enums.A_Expr_Kind.AEXPR_SIMILAR:
            self.names.functions.add(("pg_catalog", "similar_to_escape"))

    def visit_SubLink(self, ancestors: Any, node: ast.SubLink) -> None:
        name = _qualified(node.operName)
        if name:
            self.names.operators.add(name)

    def visit_SortBy(self, ancestors: Any, node: ast.SortBy) -> None:
        name = _qualified(node.useOp)
        if name:
            self.names.operators.add(name)

    def visit_TypeName(self, ancestors: Any, node: ast.TypeName) -> None:
        name = _qualified(node.names)
        if name:
            self.names.types.add(name)

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        schema = str(node.schemaname) if node.schemaname else None
        self.names.relations.add((schema, str(node.relname)))

    def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
        self.names.ctes.add(str(node.ctename))


def names(text: str) -> Names:
    """Everything one statement names (raises pglast's ParseError on bad text)."""
    collector = _Collector()
    collector(parser.parse_sql(text))
    found = collector.names
    # A one-part name that matches a CTE is that CTE, not a relation.
    found.relations = {r for r in found.relations if r[0] is not None or r[1] not in found.ctes}
    return found


def _rows(items: set[tuple[str | None, str]]) -> str:
    return json.dumps([{"schema": s, "name": n} for s, n in sorted(items, key=str)])


def refusals(s: TargetSession, text: str) -> list[str]:
    """Why planning `text` could run code that is not PostgreSQL's own; [] when it cannot."""
    try:
        found = names(text)
    except parser.ParseError:
        return ["the statement does not parse"]
    reasons = [
        f"function {n} runs SQL text of its own"
        for _, n in sorted(found.functions, key=str)
        if n in RUNS_SQL
    ]
    rows = s.rows(
        "idx_whatif_untrusted",
        {
            "functions": _rows(found.functions),
            "operators": _rows(found.operators),
            "types": _rows(found.types),
            "relations": _rows(found.relations),
        },
    )
    return reasons + [f"{r['kind']} {r['name']}: {r['reason']}" for r in rows]
