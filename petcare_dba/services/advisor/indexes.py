"""Index suggestions for slow statements, verified with a what-if plan, created only on request.

Slow statements come from pg_stat_statements (mean time above a threshold). Each is parsed with
PostgreSQL's own parser (pglast); for a statement on one table, the columns it filters on with
equality (most selective first, by pg_stats) followed by one range column make the candidate
index, unless an index already leads with the first column. The candidate is checked with a
what-if: with hypopg installed, a hypothetical index (nothing is built); otherwise a real
`CREATE INDEX` inside a transaction that is always rolled back, on tables under
`max_whatif_bytes` (the build blocks writes to the table while it runs). Both compare the
generic plan's cost (`plan_cache_mode = force_generic_plan`, so `$n` parameters need no values)
before and after. Suggestions are `CREATE INDEX CONCURRENTLY` statements; `create()` runs one
only for a dba who confirmed it, and audits it.

The statements come from pg_stat_statements, written by any user of the target database, so they
are untrusted (reliability U2): suggestions are for dba only; each what-if is audited (intent,
then ok/refused/error); a statement is planned only when `trust.refusals` finds nothing
but PostgreSQL's own code in it, only as the text pglast parsed (deparsed, wrapped and re-parsed),
with the lexing settings pinned, and always in a READ ONLY transaction (the real-index path builds
its index first, then switches the transaction to read-only before planning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pglast import ast, enums, parser
from pglast.stream import RawStream

from petcare_dba.db import target
from petcare_dba.db.target import (
    TargetSession,
    execute_autocommit,
    session,
    whatif_prepare,
)
from petcare_dba.errors import NeedsConfirmation, PetcareError, Refused, ValidationError
from petcare_dba.messages import joined, say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import trust

_EQ = {"="}
_RANGE = {"<", ">", "<=", ">="}
_CREATE = re.compile(r'^CREATE INDEX CONCURRENTLY ON [\w."$]+ \([\w", $]+\);$')


@dataclass(frozen=True)
class Candidate:
    schema: str | None
    table: str
    equality: tuple[str, ...]
    ranges: tuple[str, ...]


@dataclass(frozen=True)
class IndexSuggestion:
    queryid: int
    query: str
    calls: int
    mean_ms: float
    table: str
    columns: tuple[str, ...]
    create_sql: str
    cost_before: float | None
    cost_after: float | None
    gain_pct: float | None
    verified_by: str | None
    note: str


def _column(node: Any, aliases: set[str]) -> str | None:
    if not isinstance(node, ast.ColumnRef):
        return None
    names = [f.sval for f in node.fields or () if isinstance(f, ast.String)]
    if len(names) == 1 or (len(names) == 2 and names[0] in aliases):
        return str(names[-1])
    return None


def candidate(query: str) -> Candidate | None:
    """The table and filter columns of a one-table SELECT/UPDATE/DELETE, or None."""
    try:
        stmts = parser.parse_sql(query)
    except parser.ParseError:
        return None
    if len(stmts) != 1:
        return None
    stmt = stmts[0].stmt
    if isinstance(stmt, ast.SelectStmt):
        if not stmt.fromClause or len(stmt.fromClause) != 1:
            return None
        rel, where = stmt.fromClause[0], stmt.whereClause
    elif isinstance(stmt, ast.UpdateStmt | ast.DeleteStmt):
        if getattr(stmt, "fromClause", None) or getattr(stmt, "usingClause", None):
            return None
        rel, where = stmt.relation, stmt.whereClause
    else:
        return None
    if not isinstance(rel, ast.RangeVar) or where is None:
        return None
    table = str(rel.relname)
    aliases = {table} | ({str(rel.alias.aliasname)} if rel.alias else set())
    equality: list[str] = []
    ranges: list[str] = []
    terms = (
        list(where.args or ())
        if isinstance(where, ast.BoolExpr) and where.boolop == enums.BoolExprType.AND_EXPR
        else [where]
    )
    for term in terms:
        if not isinstance(term, ast.A_Expr) or not term.name:
            continue
        op = term.name[-1].sval
        col = _column(term.lexpr, aliases) or _column(term.rexpr, aliases)
        if col is None:
            continue
        kind = term.kind
        if kind == enums.A_Expr_Kind.AEXPR_IN or (kind == enums.A_Expr_Kind.AEXPR_OP and op in _EQ):
            equality.append(col)
        elif kind == enums.A_Expr_Kind.AEXPR_BETWEEN or (
            kind == enums.A_Expr_Kind.AEXPR_OP and op in _RANGE
        ):
            ranges.append(col)
    if not equality and not ranges:
        return None
    return Candidate(
        rel.schemaname, table, tuple(dict.fromkeys(equality)), tuple(dict.fromkeys(ranges))
    )


def _quoted(schema: str | None, table: str) -> str:
    parts = [p for p in (schema, table) if p]
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def prepared_text(query: str) -> str:
    """`PREPARE petcare_whatif AS <query>` built from pglast's tree and proven to be one statement.

    The text prepared is pglast's deparse of the statement it checked, never the stored text, and
    the composed wrapper is parsed again: one PrepareStmt whose inner statement is the checked one.
    """
    try:
        stmts = parser.parse_sql(query)
        if len(stmts) != 1:
            raise ValidationError(say("msg.advisor.whatif_one"))
        checked = stmts[0].stmt
        if checked is None:
            raise ValidationError(say("msg.advisor.whatif_one"))
        inner = RawStream()(checked)
        wrapped = whatif_prepare(inner)
        again = parser.parse_sql(wrapped)
    except parser.ParseError as exc:
        raise ValidationError(say("msg.advisor.whatif_unparsed")) from exc
    if (
        len(again) != 1
        or not isinstance(again[0].stmt, ast.PrepareStmt)
        or again[0].stmt.query is None
        or RawStream()(again[0].stmt.query) != inner
    ):
        raise ValidationError(say("msg.advisor.whatif_wrapper"))
    return wrapped


def _guard(s: TargetSession, query: str) -> None:
    # Lex the prepared text as pglast did, then refuse anything that could run foreign code.
    s.setting("standard_conforming_strings", "on")
    s.setting("backslash_quote", "safe_encoding")
    s.setting("lock_timeout", "1000")
    s.row("idx_generic_plan")
    reasons = trust.refusals(s, query)
    if reasons:
        raise Refused(
            say("msg.advisor.not_planned", reasons=joined(reasons[:5])),
            hint=say("msg.advisor.not_planned.hint"),
        )


def _cost(s: TargetSession, wrapped: str) -> float:
    params = max((int(n) for n in re.findall(r"\$(\d+)", wrapped)), default=0)
    s.rows("idx_whatif_deallocate")
    s.prepare(wrapped)  # one PREPARE of the checked, deparsed statement (prepared_text)
    plan = s.explain_prepared(params)
    doc = next(iter(plan.values()))
    return float(doc[0]["Plan"]["Total Cost"])


def generic_plan(url: str, app: str, query: str, timeout_ms: int, connect_timeout: int) -> Any:
    """The generic plan (EXPLAIN FORMAT JSON, never ANALYZE) of an untrusted pg_stat_statements
    statement, through the what-if's guarded path: deparsed, PREPAREd, READ ONLY, rolled back.

    Used by query-regression alerts (`monitoring.regressions`); works on PostgreSQL 12+ alike,
    `$n` parameters need no values. Raises Refused/ValidationError/DatabaseError.
    """
    wrapped = prepared_text(query)
    with session(
        url,
        app,
        read_only=True,
        rollback=True,
        timeout_ms=timeout_ms,
        connect_timeout=connect_timeout,
        users_path=True,
    ) as s:
        _guard(s, query)
        params = max((int(n) for n in re.findall(r"\$(\d+)", wrapped)), default=0)
        s.rows("idx_whatif_deallocate")
        s.prepare(wrapped)
        return next(iter(s.explain_prepared(params).values()))


def _what_if(
    url: str, app: str, query: str, index: dict[str, Any], hypopg: bool, timeout: int
) -> tuple[float, float, str]:
    wrapped = prepared_text(query)
    with session(
        url, app, read_only=True, rollback=True, connect_timeout=timeout, users_path=True
    ) as s:
        _guard(s, query)
        before = _cost(s, wrapped)
    # The index (hypothetical or real) needs a writable transaction; it is built from packaged
    # SQL first, then the transaction turns read-only before anything is planned.
    with session(
        url, app, read_only=False, rollback=True, connect_timeout=timeout, users_path=True
    ) as s:
        if hypopg:
            s.row("idx_hypopg_create", {"sql": index["plain"]})
        else:
            s.setting("lock_timeout", "1000")
            s.build_index(index["schema"], index["table"], index["columns"])
        s.setting("transaction_read_only", "on")
        _guard(s, query)
        after = _cost(s, wrapped)
    return before, after, "hypopg" if hypopg else "explain"


def _audited_what_if(
    rt: Runtime,
    actor: Actor,
    conn: str,
    url: str,
    query: str,
    index: dict[str, Any],
    hypopg: bool,
) -> tuple[float, float, str]:
    app = target.application_name(actor.username, actor.session_id)
    fields: dict[str, Any] = {
        "event_id": audit.new_event_id(),  # pairs the intent with its outcome (A2)
        "target": conn,
        "sql_text": query,
        "classification": "read_only",
    }
    audit.record(rt.store, actor, "advisor.whatif", "intent", **fields)
    try:
        result = _what_if(url, app, query, index, hypopg, rt.settings.connect_timeout_s)
    except Refused as exc:
        audit.record(
            rt.store, actor, "advisor.whatif", "refused", **fields, detail={"reason": exc.message}
        )
        raise
    except PetcareError as exc:
        audit.record(rt.store, actor, "advisor.whatif", "error", **fields, sqlstate=exc.sqlstate)
        raise
    audit.record(rt.store, actor, "advisor.whatif", "ok", **fields)
    return result


def suggest(
    rt: Runtime,
    actor: Actor,
    conn: str,
    *,
    min_mean_ms: float = 10.0,
    min_calls: int = 1,
    max_whatif_bytes: int = 50 * 2**20,
    limit: int = 10,
) -> list[IndexSuggestion]:
    """Verified index suggestions for the slowest statements of a connection (dba only)."""
    actor.require("dba", say("msg.access.index_suggestions"))
    # Sessions below open one at a time; together they take one of the user's slots (F7).
    with connections.held(rt, actor, conn) as url:
        return _suggest(rt, actor, conn, url, min_mean_ms, min_calls, max_whatif_bytes, limit)


def _suggest(
    rt: Runtime,
    actor: Actor,
    conn: str,
    url: str,
    min_mean_ms: float,
    min_calls: int,
    max_whatif_bytes: int,
    limit: int,
) -> list[IndexSuggestion]:
    app = target.application_name(actor.username, actor.session_id)
    timeout = rt.settings.connect_timeout_s
    with session(url, app, connect_timeout=timeout) as s:
        if not s.row("mon_target_pgss_path").get("path"):
            raise ValidationError(
                say("msg.advisor.needs_pgss"), hint=say("msg.advisor.needs_pgss.hint")
            )
        slow = s.rows(
            "idx_target_slow_statements",
            {"min_mean_ms": min_mean_ms, "min_calls": min_calls, "limit": limit},
        )
    out: list[IndexSuggestion] = []
    for row in slow:
        cand = candidate(row["query"])
        if cand is None:
            continue
        # The table is named as the statement's author named it: their search_path finds it.
        with session(url, app, connect_timeout=timeout, users_path=True) as s:
            table = s.row("idx_target_table", {"name": _quoted(cand.schema, cand.table)})
            if not table:
                continue
            rank = {c: i for i, c in enumerate(table["by_selectivity"])}
            cols = sorted(cand.equality, key=lambda c: rank.get(c, len(rank))) + list(
                cand.ranges[:1]
            )
            if not cols or cols[0] in table["leading_columns"]:
                continue
            index = s.row(
                "idx_index_sql",
                {"schema": table["schema"], "table": table["name"], "columns": cols},
            )
        name = f"{table['schema']}.{table['name']}"
        before = after = gain = None
        verified, note = None, ""
        if table["hypopg"] or int(table["bytes"]) <= max_whatif_bytes:
            try:
                before, after, verified = _audited_what_if(
                    rt, actor, conn, url, row["query"], index, bool(table["hypopg"])
                )
                gain = round(100.0 * (before - after) / before, 1) if before else None
            except PetcareError as exc:
                note = f"not verified: {exc.message}"
        else:
            note = "not verified: table larger than the what-if limit and hypopg is not installed"
        if gain is not None and gain <= 0:
            continue  # the planner would not use it
        out.append(
            IndexSuggestion(
                int(row["queryid"]),
                row["query"],
                int(row["calls"]),
                float(row["mean_ms"]),
                name,
                tuple(cols),
                index["concurrent"],
                before,
                after,
                gain,
                verified,
                note,
            )
        )
    return out


def create(rt: Runtime, actor: Actor, conn: str, create_sql: str, *, confirmed: bool) -> None:
    """Run one suggested CREATE INDEX CONCURRENTLY (dba, after confirmation); audited."""
    actor.require("dba", say("msg.access.creating_indexes"))
    if not _CREATE.match(create_sql):
        raise ValidationError(say("msg.advisor.only_suggested"))
    if not confirmed:
        audit.record(
            rt.store, actor, "advisor.create_index", "confirm", target=conn, sql_text=create_sql
        )
        raise NeedsConfirmation(
            say("msg.advisor.confirm_index", name=repr(conn)),
            objects=(create_sql,),
            reason=say("msg.advisor.confirm_index.reason"),
        )
    app = target.application_name(actor.username, actor.session_id)
    # One event id pairs the intent with its outcome (A2).
    event = {"event_id": audit.new_event_id(), "target": conn, "sql_text": create_sql}
    audit.record(rt.store, actor, "advisor.create_index", "intent", **event, classification="ddl")
    try:
        with connections.held(rt, actor, conn) as url:
            execute_autocommit(url, app, create_sql, rt.settings.connect_timeout_s)
    except PetcareError as exc:
        audit.record(
            rt.store, actor, "advisor.create_index", "error", **event, sqlstate=exc.sqlstate
        )
        raise
    audit.record(rt.store, actor, "advisor.create_index", "ok", **event)
