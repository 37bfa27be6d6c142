"""Plan stage, the bottom layer: split scripts with PostgreSQL's parser; the statement model.

`split` turns a script into `Statement`s (character offsets into the original text, comments
and the terminating semicolon trimmed) using libpg_query through pglast, so dollar quotes,
`E''` strings and comments are lexed exactly as the server lexes them, and reports syntax errors
with PostgreSQL's 1-based position plus line and column. This module also holds the statement
model (`Kind`, `Statement`, `Classification`), AST helpers (`walk`, `name_of`, `command_of`) and
the settings that guard the session or change how the server reads text (function knowledge is
in `functions`). The classifier and the per-role decision table live in `safety` and `decide`;
every stage may use this module, and it imports none of them.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parser
from pglast.stream import maybe_double_quote_name

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say


class Kind(enum.StrEnum):
    """What a statement does, coarsely; `decide.decide` maps kinds to app roles."""

    READ_ONLY = "read_only"
    DML = "dml"
    DDL = "ddl"
    TRANSACTION_CONTROL = "transaction_control"
    SESSION = "session"
    MAINTENANCE = "maintenance"
    UTILITY = "utility"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Statement:
    """One statement of a script; `start`/`end` are str indices, `text == script[start:end]`."""

    index: int
    start: int
    end: int
    text: str
    node: ast.Node = field(repr=False, compare=False)


@dataclass(frozen=True)
class Classification:
    """What one statement does, with reasons a user can read.

    `read_only` is true only when the statement could run in a READ ONLY transaction with no
    side effects. `escalates` marks statements that change the role or lift the read-only and
    timeout guards; `unchecked` marks code whose effects cannot be seen (DO, CALL, EXECUTE).
    `objects` are the objects written, altered or dropped (for read-only statements: the
    relations read), schema-qualified as written. `reasons` say why the statement needs
    attention; `side_effects` are verb phrases for every effect that makes it not read-only.
    `parse_error` is set only for text that could not be parsed. `restricted` holds
    (rule, reason) pairs of rules that limit the statement to dba and admin (settings that change
    how text is read, outbound access, opaque dynamic SQL); `depends_on` names the functions the
    classifier could not resolve (offline: every function that is not built in).
    """

    index: int
    start: int
    end: int
    text: str
    kind: Kind
    command: str
    read_only: bool
    destructive: bool
    escalates: bool = False
    unchecked: bool = False
    objects: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    side_effects: tuple[str, ...] = ()
    parse_error: str | None = None
    restricted: tuple[tuple[str, str], ...] = ()
    depends_on: tuple[str, ...] = ()


_COMMENT_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_SEMICOLON = "ASCII_59"


def split(script: str) -> list[Statement]:
    """Split `script` into statements; raise ValidationError on a syntax error."""
    try:
        raws = parser.parse_sql(script)
    except parser.ParseError as exc:
        raise _syntax_error(script, exc) from exc
    if not raws:
        return []
    # pglast >= 8 reports stmt_location/stmt_len and token offsets as str indices (it converts
    # libpg_query's UTF-8 byte offsets with parser.Displacements); the Unicode tests pin this.
    tokens = [t for t in parser.scan(script) if t.name not in _COMMENT_TOKENS]
    starts = [t.start for t in tokens]
    statements: list[Statement] = []
    for raw in raws:
        lo = raw.stmt_location or 0
        hi = lo + raw.stmt_len if raw.stmt_len else len(script)
        inside = tokens[bisect.bisect_left(starts, lo) : bisect.bisect_left(starts, hi)]
        while inside and inside[-1].name == _SEMICOLON:
            inside.pop()
        if not inside or raw.stmt is None:
            continue
        start, end = inside[0].start, inside[-1].end + 1
        statements.append(Statement(len(statements), start, end, script[start:end], raw.stmt))
    return statements


def _syntax_error(script: str, exc: parser.ParseError) -> ValidationError:
    message = str(exc.args[0]) if exc.args else "syntax error"
    index = exc.args[1] if len(exc.args) > 1 else None
    if index is None and "end of input" in message:
        index = len(script.rstrip())
    if not isinstance(index, int):
        return ValidationError(message, hint=say("msg.sql.syntax.hint"))
    line = script.count("\n", 0, index) + 1
    column = index - (script.rfind("\n", 0, index) + 1) + 1
    # PostgreSQL reports a 1-based character position; pglast gives a 0-based index. The
    # parser's message is PostgreSQL's own words: said as it is, the sentence around it is ours.
    return ValidationError(
        say("msg.sql.syntax_at", message=message, line=line, column=column),
        hint=say("msg.sql.syntax_at.hint"),
        sqlstate="42601",
        position=index + 1,
    )


def walk(node: Any) -> Iterator[ast.Node]:
    """Yield every AST node under `node` (itself included), depth first, in source order."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            stack.extend(reversed([getattr(item, name, None) for name in item]))
        elif isinstance(item, tuple | list):
            stack.extend(reversed(item))


def func_name(call: ast.FuncCall) -> tuple[str, str]:
    """(unqualified, qualified) name of a function call, case-folded as PostgreSQL does."""
    parts = [p.sval or "" for p in call.funcname or () if isinstance(p, ast.String)]
    return (parts[-1] if parts else ""), ".".join(parts)


def function_names(stmt: Statement) -> set[str]:
    """Unqualified names (pg_proc.proname) of every function called anywhere in `stmt`."""
    return {func_name(n)[0] for n in walk(stmt.node) if isinstance(n, ast.FuncCall)}


def name_of(obj: Any) -> str:
    """Render a name-ish AST value (RangeVar, String list, TypeName, ...) as written."""
    if isinstance(obj, str):
        return maybe_double_quote_name(obj)
    if isinstance(obj, ast.String):
        return maybe_double_quote_name(obj.sval or "")
    if isinstance(obj, tuple | list):
        return ".".join(filter(None, (name_of(p) for p in obj)))
    if isinstance(obj, ast.RangeVar):
        parts = (obj.catalogname, obj.schemaname, obj.relname)
        return ".".join(maybe_double_quote_name(p) for p in parts if p)
    if isinstance(obj, ast.TypeName):
        return name_of(obj.names)
    if isinstance(obj, ast.ObjectWithArgs):
        return name_of(obj.objname)
    if isinstance(obj, ast.RoleSpec):
        return maybe_double_quote_name(obj.rolename) if obj.rolename else "CURRENT_USER"
    if isinstance(obj, ast.VacuumRelation):
        return name_of(obj.relation)
    if isinstance(obj, ast.IntoClause):
        return name_of(obj.rel)
    return ""


_TRANSACTION_COMMANDS = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}
_COMMAND_OVERRIDES = {
    "SelectStmt": "SELECT",
    "VariableSetStmt": "SET",
    "VariableShowStmt": "SHOW",
    "CreateStmt": "CREATE TABLE",
    "IndexStmt": "CREATE INDEX",
    "ViewStmt": "CREATE VIEW",
    "DropdbStmt": "DROP DATABASE",
    "CreatedbStmt": "CREATE DATABASE",
    "ClosePortalStmt": "CLOSE",
    "DeclareCursorStmt": "DECLARE",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "CheckPointStmt": "CHECKPOINT",
    "CreateTrigStmt": "CREATE TRIGGER",
    "RuleStmt": "CREATE RULE",
    "ConstraintsSetStmt": "SET CONSTRAINTS",
    "DefineStmt": "CREATE",
}


def command_of(node: ast.Node) -> str:
    """A short command label (`DELETE`, `DROP TABLE`, `COMMIT`) for messages and the audit."""
    name = type(node).__name__
    if isinstance(node, ast.TransactionStmt):
        return _TRANSACTION_COMMANDS.get(enum_name(node.kind), "TRANSACTION")
    if isinstance(node, ast.DropStmt):
        return "DROP " + enum_name(node.removeType).removeprefix("OBJECT_").replace("_", " ")
    if isinstance(node, ast.VariableSetStmt) and enum_name(node.kind).startswith("VAR_RESET"):
        return "RESET"
    if isinstance(node, ast.VacuumStmt):
        return "VACUUM" if node.is_vacuumcmd else "ANALYZE"
    if isinstance(node, ast.GrantStmt | ast.GrantRoleStmt):
        return "GRANT" if node.is_grant else "REVOKE"
    if isinstance(node, ast.SelectStmt) and node.intoClause is not None:
        return "SELECT INTO"
    if name in _COMMAND_OVERRIDES:
        return _COMMAND_OVERRIDES[name]
    words = re.findall(r"[A-Z][a-z]*", name.removesuffix("Stmt"))
    return " ".join(words).upper() or name


def enum_name(value: Any) -> str:
    """The member name of a pglast enum value (`"DROP_CASCADE"`), or its str()."""
    return str(getattr(value, "name", value))


def is_true(arg: Any) -> bool:
    """Value of a DefElem argument such as EXPLAIN's `ANALYZE [true|false]`."""
    if arg is None:
        return True
    if isinstance(arg, ast.A_Const):
        arg = arg.val
    if isinstance(arg, ast.String):
        return (arg.sval or "").lower() in {"true", "on", "1", "yes", "t", "y"}
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    if isinstance(arg, ast.Integer):
        return bool(arg.ival)
    return True


def const_str(node: Any) -> str | None:
    """The value of a string literal node, else None."""
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None


# Settings whose change lifts a guard the app relies on (reliability Q1, Q2, Q5-Q7).
GUARDED_SETTINGS = {
    "role": say("msg.sql.guard.role"),
    "session_authorization": say("msg.sql.guard.session_authorization"),
    "default_transaction_read_only": say("msg.sql.guard.read_only"),
    "transaction_read_only": say("msg.sql.guard.read_only"),
    "statement_timeout": say("msg.sql.guard.statement"),
    "lock_timeout": say("msg.sql.guard.statement"),
    "idle_in_transaction_session_timeout": say("msg.sql.guard.session"),
    "transaction_timeout": say("msg.sql.guard.transaction"),
    "session_replication_role": say("msg.sql.guard.replication_role"),
}


# Settings that change how the server lexes, decodes or parses the text it is sent: with them
# the server could read a statement differently from how the classifier read it (issue 12).
# `search_path` changes name resolution but not lexing; calls are resolved against every schema
# on the connection, so it is not in this list. https://www.postgresql.org/docs/current/runtime-config-compatible.html
LEXER_SETTINGS = {
    "standard_conforming_strings": say("msg.sql.lexer.standard_conforming_strings"),
    "backslash_quote": say("msg.sql.lexer.backslash_quote"),
    "client_encoding": say("msg.sql.lexer.client_encoding"),
    "transform_null_equals": say("msg.sql.lexer.transform_null_equals"),
}


def is_cascade(node: ast.Node) -> bool:
    """Whether a DROP-like node says CASCADE."""
    return enum_name(getattr(node, "behavior", None)) == "DROP_CASCADE"


_TARGET_ATTRS = (
    "relation relations objects object view into rels dbname roles role schemaname funcname"
    " typeName tablespacename subname extname servername".split()
)


def targets(node: ast.Node) -> list[str]:
    """Names of the objects a utility statement acts on, as written."""
    names: list[str] = []
    for attr in _TARGET_ATTRS:
        value = getattr(node, attr, None)
        if value is None:
            continue
        multi = attr in {"relations", "objects", "rels", "roles"} and isinstance(value, tuple)
        for item in value if multi else (value,):
            name = name_of(item)
            if name and name not in names:
                names.append(name)
    return names


def add_unique(items: list[str], item: str) -> None:
    """Append a non-empty item once (reasons, objects and side effects keep their order)."""
    if item and item not in items:
        items.append(item)
