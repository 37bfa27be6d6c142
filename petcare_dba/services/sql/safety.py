"""Plan stage, the classifier: what SQL statements do, and (re-exported) whether they may run.

`classify` walks the whole syntax tree of one statement from `parse.split` (subqueries,
CTEs, EXPLAIN ANALYZE targets, PREPARE bodies) and returns a `Classification`; `classify_script`
does the same for a script and never raises, because text that cannot be parsed counts as
destructive (reliability Q4). This module dispatches on the kind of statement; the query bodies
it meets, and the function calls in them, are walked by `effects` into the same `Facts`.
`decide` maps a classification, an app role (viewer, analyst, dba, admin) and the connection's
read-only flag to `Allow`, `Confirm(reason, objects)` or `Reject(rule, message)`, and
`decide_script` combines those for a whole script (both live in `decide` and are re-exported
here). This is the app's first line of defence only: the database enforces the same boundary
with READ ONLY transactions and least-privilege roles (reliability Q1-Q3). Pattern: datasette
`write_sql.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pglast import ast
from pglast.visitors import referenced_relations

from petcare_dba.errors import ValidationError
from petcare_dba.messages import Text, say
from petcare_dba.services.sql.decide import (
    ROLES,
    RULE_ANALYST,
    RULE_DYNAMIC,
    RULE_GUARD,
    RULE_OUTBOUND,
    RULE_READ_ONLY_CONNECTION,
    RULE_SETTINGS,
    RULE_UNKNOWN_ROLE,
    RULE_VIEWER,
    UNPARSEABLE,
    Allow,
    Confirm,
    Decision,
    Reject,
    decide,
    decide_script,
)
from petcare_dba.services.sql.effects import Facts, analyse_query
from petcare_dba.services.sql.parse import (
    GUARDED_SETTINGS,
    LEXER_SETTINGS,
    Classification,
    Kind,
    Statement,
    command_of,
    enum_name,
    function_names,
    is_cascade,
    is_true,
    name_of,
    split,
    targets,
)

__all__ = [
    "ROLES",
    "RULE_ANALYST",
    "RULE_DYNAMIC",
    "RULE_GUARD",
    "RULE_OUTBOUND",
    "RULE_READ_ONLY_CONNECTION",
    "RULE_SETTINGS",
    "RULE_UNKNOWN_ROLE",
    "RULE_VIEWER",
    "UNPARSEABLE",
    "Allow",
    "Classification",
    "Confirm",
    "Decision",
    "Kind",
    "Reject",
    "Statement",
    "classify",
    "classify_script",
    "decide",
    "decide_script",
    "function_names",
    "split",
]

_QUERY = ast.SelectStmt | ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt | ast.MergeStmt
_SESSION = (
    ast.ListenStmt
    | ast.UnlistenStmt
    | ast.DeallocateStmt
    | ast.FetchStmt
    | ast.ClosePortalStmt
    | ast.ConstraintsSetStmt
)
_MAINTENANCE = (
    ast.VacuumStmt | ast.ReindexStmt | ast.ClusterStmt | ast.CheckPointStmt | ast.RefreshMatViewStmt
)
_CURSOR_OPT_HOLD = 0x0020  # parsenodes.h
_SETTINGS_NODES = ast.AlterRoleSetStmt | ast.AlterDatabaseSetStmt | ast.AlterSystemStmt
_FOREIGN = (
    ast.CreateForeignServerStmt
    | ast.AlterForeignServerStmt
    | ast.CreateUserMappingStmt
    | ast.AlterUserMappingStmt
    | ast.CreateForeignTableStmt
    | ast.ImportForeignSchemaStmt
    | ast.CreateFdwStmt
    | ast.AlterFdwStmt
)
# Extensions whose functions reach other servers or the server's files.
_OUTBOUND_EXTENSIONS = frozenset({"dblink", "postgres_fdw", "file_fdw", "adminpack", "lo"})
_DDL_PREFIXES = (
    "Create Alter Define Grant Comment SecLabel Rule Rename Reassign Import Composite View Index"
).split()


def classify(stmt: Statement, volatility: Mapping[str, str] | None = None) -> Classification:
    """Classify one statement; `volatility` maps function names to pg_proc.provolatile.

    Without `volatility` (offline) only builtin functions resolve; with it (a connection's
    lookup, `db.executor.function_volatility`) the target's pg_proc decides.
    """
    facts = Facts(volatility)
    _analyse(stmt.node, facts)
    read_only = facts.kind is Kind.READ_ONLY and not facts.side_effects
    objects = sorted(referenced_relations(stmt.node)) if read_only else facts.targets
    return Classification(
        index=stmt.index,
        start=stmt.start,
        end=stmt.end,
        text=stmt.text,
        kind=facts.kind,
        command=command_of(stmt.node),
        read_only=read_only,
        destructive=facts.destructive,
        escalates=facts.escalates,
        unchecked=facts.unchecked,
        objects=tuple(objects),
        reasons=tuple(facts.reasons),
        side_effects=tuple(facts.side_effects),
        restricted=tuple(facts.restricted),
        depends_on=tuple(facts.depends_on),
    )


def classify_script(
    script: str, volatility: Mapping[str, str] | None = None
) -> list[Classification]:
    """Split and classify `script`; never raises (unparseable text counts as destructive)."""
    try:
        return [classify(stmt, volatility) for stmt in split(script)]
    except ValidationError as exc:
        problem = exc.message
    except Exception as exc:  # fail closed: a classifier bug must not let a statement through
        problem = say("msg.sql.reason.classifier_failed", kind=type(exc).__name__)
    reason = say("msg.sql.reason.unparseable_because", problem=problem)
    return [
        Classification(
            index=0,
            start=0,
            end=len(script),
            text=script,
            kind=Kind.UNKNOWN,
            command="UNPARSEABLE",
            read_only=False,
            destructive=True,
            reasons=(reason,),
            side_effects=(say("msg.sql.effect.unknown"),),
            parse_error=problem,
        )
    ]


def _read_write(options: Any) -> bool:
    return any(
        isinstance(o, ast.DefElem) and o.defname == "transaction_read_only" and not is_true(o.arg)
        for o in options or ()
    )


def _analyse(node: ast.Node, facts: Facts) -> None:
    """Record the effects of one top-level (or EXPLAIN ANALYZE'd) statement in `facts`."""
    command = command_of(node)
    names = targets(node)
    listed = ", ".join(names)
    if isinstance(node, _QUERY):
        analyse_query(node, facts)
    elif isinstance(node, ast.ExplainStmt):
        # Plain EXPLAIN only plans; EXPLAIN ANALYZE runs the statement and inherits its class.
        if node.query is not None and any(
            isinstance(o, ast.DefElem) and o.defname == "analyze" and is_true(o.arg)
            for o in node.options or ()
        ):
            _analyse(node.query, facts)
    elif isinstance(node, ast.CopyStmt):
        _analyse_copy(node, facts)
    elif isinstance(node, ast.VariableShowStmt):
        pass
    elif isinstance(node, ast.TransactionStmt):
        facts.effect(Kind.TRANSACTION_CONTROL, say("msg.sql.effect.controls_transaction"))
        if _read_write(node.options):
            facts.warn(say("msg.sql.reason.read_write", command=command), escalates=True)
    elif isinstance(node, ast.VariableSetStmt):
        _analyse_set(node, facts)
    elif isinstance(node, ast.DiscardStmt):
        facts.effect(Kind.SESSION, say("msg.sql.effect.discards_session"))
        if enum_name(node.target) == "DISCARD_ALL":
            facts.warn(say("msg.sql.reason.discard_all"), escalates=True)
    elif isinstance(node, ast.FetchStmt | ast.ClosePortalStmt):
        pass  # FETCH, MOVE and CLOSE only run what DECLARE (classified there) planned
    elif isinstance(node, ast.DeclareCursorStmt) and not (node.options or 0) & _CURSOR_OPT_HOLD:
        # Without WITH HOLD the cursor ends with the transaction: a read within the script.
        analyse_query(node.query, facts)
    elif isinstance(node, _SESSION):
        facts.effect(Kind.SESSION, say("msg.sql.effect.changes_session"))
    elif isinstance(node, ast.PrepareStmt | ast.DeclareCursorStmt):
        cursor = command == "DECLARE"
        creates = "msg.sql.effect.creates_cursor" if cursor else "msg.sql.effect.creates_plan"
        facts.effect(Kind.SESSION, say(creates))
        if node.query is not None:  # what EXECUTE or FETCH will run later
            analyse_query(node.query, facts)
    elif isinstance(node, ast.NotifyStmt):
        facts.effect(Kind.DML, say("msg.sql.effect.notifies", channel=node.conditionname))
    elif isinstance(node, ast.ExecuteStmt | ast.DoStmt | ast.CallStmt):
        facts.effect(Kind.DML, say("msg.sql.effect.runs_code"))
        facts.warn(say("msg.sql.reason.runs_code", command=command))
        facts.unchecked = True
        analyse_query(node, facts)
    elif isinstance(node, _MAINTENANCE):
        what = listed or say("msg.sql.word.database")
        facts.effect(Kind.MAINTENANCE, say("msg.sql.effect.maintenance", names=what), *names)
    elif isinstance(node, ast.LockStmt):
        facts.effect(Kind.UTILITY, say("msg.sql.effect.locks", names=listed), *names)
    elif isinstance(node, ast.LoadStmt):
        facts.effect(Kind.UTILITY, say("msg.sql.effect.loads_library"))
    elif isinstance(node, _SETTINGS_NODES):
        _analyse_stored_settings(node, facts)
    elif isinstance(node, _FOREIGN) or _outbound_extension(node):
        facts.effect(Kind.DDL, say("msg.sql.effect.outbound", command=command), *names)
        facts.restrict(RULE_OUTBOUND, say("msg.sql.reason.outbound", command=command))
    elif isinstance(node, ast.TruncateStmt):
        facts.effect(Kind.DDL, say("msg.sql.effect.empties", names=listed), *names)
        facts.warn(say("msg.sql.reason.truncate", names=listed), destructive=True)
    elif isinstance(node, ast.AlterTableStmt):
        _analyse_alter_table(node, facts)
    elif type(node).__name__.startswith("Drop"):
        what = listed or say("msg.sql.word.objects")
        facts.effect(Kind.DDL, say("msg.sql.effect.drops", names=what), *names)
        reason = say("msg.sql.reason.drops", command=command, names=what)
        facts.warn(_cascaded(reason, node), destructive=True)
    elif isinstance(node, ast.CreateTableAsStmt):
        facts.effect(Kind.DDL, say("msg.sql.effect.creates", names=listed), *names)
        analyse_query(node.query, facts)
    elif type(node).__name__.startswith(tuple(_DDL_PREFIXES)):
        where = say("msg.sql.word.of", names=listed) if listed else say("msg.sql.word.in_database")
        facts.effect(Kind.DDL, say("msg.sql.effect.changes_definitions", where=where), *names)
    else:
        facts.effect(Kind.UNKNOWN, say("msg.sql.effect.unknown"))
        facts.warn(say("msg.sql.reason.unrecognised", command=command))


def _cascaded(reason: Text, node: Any) -> Text:
    return say("msg.sql.reason.cascade", what=reason) if is_cascade(node) else reason


def _analyse_alter_table(node: ast.AlterTableStmt, facts: Facts) -> None:
    table = name_of(node.relation)
    facts.effect(Kind.DDL, say("msg.sql.effect.alters_table", table=table), table)
    for cmd in node.cmds or ():
        subtype = enum_name(getattr(cmd, "subtype", None))
        if subtype == "AT_DropColumn":
            what = say("msg.sql.reason.column", name=cmd.name)
        elif subtype == "AT_DropConstraint":
            what = say("msg.sql.reason.constraint", name=cmd.name)
        else:
            continue
        reason = say("msg.sql.reason.alter_drops", table=table, what=what)
        facts.warn(_cascaded(reason, cmd), destructive=True)


def _outbound_extension(node: ast.Node) -> bool:
    return isinstance(node, ast.CreateExtensionStmt) and node.extname in _OUTBOUND_EXTENSIONS


def _analyse_stored_settings(node: ast.Node, facts: Facts) -> None:
    """ALTER ROLE/DATABASE ... SET and ALTER SYSTEM: settings for sessions that start later."""
    command = command_of(node)
    setstmt = getattr(node, "setstmt", None)
    name = (setstmt.name if setstmt is not None else None) or "ALL"
    where = name_of(getattr(node, "role", None) or getattr(node, "dbname", None) or "")
    facts.effect(
        Kind.DDL, say("msg.sql.effect.stored_setting", name=name), *([where] if where else [])
    )
    facts.restrict(RULE_SETTINGS, say("msg.sql.reason.stored_setting", command=command, name=name))
    # It outlives the transaction and the engine's pinning (ALTER SYSTEM: the whole cluster
    # after a reload), so even a dba confirms it, as for a DROP.
    facts.warn(say("msg.sql.reason.persists_setting", command=command, name=name), destructive=True)


def _analyse_set(node: ast.VariableSetStmt, facts: Facts) -> None:
    kind = enum_name(node.kind)
    name = (node.name or "").lower()
    verb = "RESET" if kind.startswith("VAR_RESET") else "SET"
    if name in {
        "transaction",
        "session characteristics",
    }:  # SET [SESSION CHARACTERISTICS AS] TRANSACTION
        facts.effect(Kind.SESSION, say("msg.sql.effect.transaction_characteristics"))
        if _read_write(node.args):
            facts.warn(say("msg.sql.reason.set_read_write", what=name.upper()), escalates=True)
        return
    sets = "msg.sql.effect.resets_setting" if verb == "RESET" else "msg.sql.effect.sets_setting"
    facts.effect(Kind.SESSION, say(sets, name=name or "ALL"))
    if kind == "VAR_RESET_ALL":
        facts.warn(say("msg.sql.reason.reset_all"), escalates=True)
    elif name in GUARDED_SETTINGS:
        why = GUARDED_SETTINGS[name]
        facts.warn(say("msg.sql.reason.guarded", verb=verb, name=name, why=why), escalates=True)
    elif name in LEXER_SETTINGS:
        why = LEXER_SETTINGS[name]
        facts.restrict(RULE_SETTINGS, say("msg.sql.reason.guarded", verb=verb, name=name, why=why))


def _analyse_copy(node: ast.CopyStmt, facts: Facts) -> None:
    table = name_of(node.relation) if node.relation is not None else ""
    direction = "FROM" if node.is_from else "TO"
    if node.is_program or node.filename:
        effect = say("msg.sql.effect.shell" if node.is_program else "msg.sql.effect.server_file")
        facts.effect(Kind.UTILITY, effect, table)
        reason = say("msg.sql.reason.copy", direction=direction, what=effect)
        facts.warn(reason, destructive=True)
        facts.restrict(RULE_OUTBOUND, reason)
    elif node.is_from:
        facts.effect(Kind.DML, say("msg.sql.effect.loads_rows", table=table), table)
    if node.query is not None:
        analyse_query(node.query, facts)
