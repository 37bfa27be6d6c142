"""Plan stage, the classifier's query walk: what a query tree does, into one statement's facts.

`Facts` is the accumulator `safety.classify` fills while it analyses one statement (its kind,
targets, reasons, side effects, rules), and `analyse_query` walks a query with its subqueries and
CTEs for writes, row locks and function calls, judging each call by `functions` (its rules and
the volatility map). It is apart from `safety` because it is the one part of the classifier that
reads expressions rather than statement types: `safety` dispatches on the top-level statement
and hands every query body it meets (SELECT, DECLARE, PREPARE, COPY (query), CREATE TABLE AS,
EXECUTE/DO/CALL) to this walk.
"""

from __future__ import annotations

from collections.abc import Mapping

from pglast import ast

from petcare_dba.messages import say
from petcare_dba.services.sql import functions
from petcare_dba.services.sql.decide import RULE_SETTINGS
from petcare_dba.services.sql.parse import (
    GUARDED_SETTINGS,
    Kind,
    add_unique,
    const_str,
    enum_name,
    func_name,
    name_of,
    walk,
)

# When one statement has several effects the most severe kind wins (a SELECT calling nextval()
# is DML, a SELECT INTO is DDL).
_RANK = {
    Kind.READ_ONLY: 0,
    Kind.SESSION: 1,
    Kind.TRANSACTION_CONTROL: 1,
    Kind.DML: 2,
    Kind.MAINTENANCE: 3,
    Kind.UTILITY: 3,
    Kind.DDL: 4,
    Kind.UNKNOWN: 5,
}


class Facts:
    """Mutable accumulator while one statement is analysed."""

    def __init__(self, volatility: Mapping[str, str] | None) -> None:
        self.volatility = volatility
        self.kind = Kind.READ_ONLY
        self.destructive = self.escalates = self.unchecked = False
        self.targets: list[str] = []
        self.reasons: list[str] = []
        self.side_effects: list[str] = []
        self.restricted: list[tuple[str, str]] = []
        self.depends_on: list[str] = []

    def restrict(self, rule: str, reason: str) -> None:
        """Limit the statement to dba and admin under `rule`, saying why."""
        if (rule, reason) not in self.restricted:
            self.restricted.append((rule, reason))
        add_unique(self.reasons, reason)

    def effect(self, kind: Kind, text: str, *names: str) -> None:
        if _RANK[kind] > _RANK[self.kind]:
            self.kind = kind
        add_unique(self.side_effects, text)
        for name in names:
            add_unique(self.targets, name)

    def warn(self, reason: str, *, destructive: bool = False, escalates: bool = False) -> None:
        add_unique(self.reasons, reason)
        self.destructive |= destructive
        self.escalates |= escalates


def analyse_query(node: ast.Node | None, facts: Facts) -> None:
    """Walk a query, its subqueries and CTEs for writes, row locks and side-effect calls."""
    for n in walk(node):
        if isinstance(n, ast.InsertStmt | ast.MergeStmt):
            table = name_of(n.relation)
            insert = isinstance(n, ast.InsertStmt)
            adds = "msg.sql.effect.inserts_rows" if insert else "msg.sql.effect.merges_rows"
            facts.effect(Kind.DML, say(adds, table=table), table)
        elif isinstance(n, ast.UpdateStmt | ast.DeleteStmt):
            table = name_of(n.relation)
            update = isinstance(n, ast.UpdateStmt)
            rows = "msg.sql.effect.changes_rows" if update else "msg.sql.effect.deletes_rows"
            facts.effect(Kind.DML, say(rows, table=table), table)
            if update and _is_pg_settings(n.relation):
                # pg_settings has an UPDATE rule that calls set_config (the SET of a statement).
                facts.restrict(RULE_SETTINGS, say("msg.sql.reason.pg_settings"))
            if n.whereClause is None:
                everything = "msg.sql.reason.update_all" if update else "msg.sql.reason.delete_all"
                facts.warn(say(everything, table=table), destructive=True)
        elif isinstance(n, ast.SelectStmt) and n.intoClause is not None:
            table = name_of(n.intoClause)
            facts.effect(Kind.DDL, say("msg.sql.effect.creates_table", table=table), table)
        elif isinstance(n, ast.LockingClause):
            strength = enum_name(n.strength).removeprefix("LCS_FOR")
            strength = strength.replace("NOKEY", "NO KEY ").replace("KEYSHARE", "KEY SHARE")
            facts.effect(Kind.DML, say("msg.sql.effect.locks_rows", strength=strength))
        elif isinstance(n, ast.FuncCall):
            _analyse_call(n, facts)


def _analyse_call(call: ast.FuncCall, facts: Facts) -> None:
    name, qualified = func_name(call)
    schema = qualified.rpartition(".")[0] or None
    rule = functions.call_rule(call, name, schema)
    if rule is not None:
        facts.effect(rule.kind, say("msg.sql.effect.calls", name=name, effect=rule.effect))
        said = say("msg.sql.reason.function", name=name, effect=rule.effect)
        if rule.destructive:
            facts.warn(said, destructive=True)
        if rule.restricted is not None:
            facts.restrict(rule.restricted, said)
        if name == "set_config":
            setting = const_str(call.args[0]) if call.args else None
            if setting is None:
                facts.warn(say("msg.sql.reason.set_config_computed"), escalates=True)
            elif setting.lower() in GUARDED_SETTINGS:
                why = GUARDED_SETTINGS[setting.lower()]
                facts.warn(say("msg.sql.reason.set_config", name=setting, why=why), escalates=True)
        return
    flag = functions.resolve(name, schema, facts.volatility)
    if flag is None:
        here = facts.volatility is not None
        where = "msg.sql.effect.unresolved_here" if here else "msg.sql.effect.unresolved_offline"
        add_unique(facts.depends_on, qualified)
        facts.effect(Kind.DML, say(where, name=qualified))
    elif flag == "v" and not functions.safe_volatile(name, schema, facts.volatility):
        facts.effect(Kind.DML, say("msg.sql.effect.volatile", name=qualified))


def _is_pg_settings(rel: ast.RangeVar | None) -> bool:
    return (
        rel is not None and rel.relname == "pg_settings" and rel.schemaname in (None, "pg_catalog")
    )
