"""The assistant's tools and the bounded loop that runs them.

Six functions are declared to the model (automatic execution disabled in the SDK): list_tables,
describe_table, run_readonly_query, explain_query, get_advisor_findings, get_metrics. Each is
offered only when the connection's consent level allows what it returns, and each runs here,
never in the model: run_readonly_query and explain_query go through the engine's assistant path
(`engine.run(ai_initiated=True)`: viewer role, READ ONLY transaction, one statement, ≤10 s,
≤1000 rows, application_name …/ai/…), catalog tools through packaged read-only queries under
the same application_name. Every call is audited as AI-initiated and its result is quoted
inside the request's untrusted-data boundary. `run_loop` stops after `ai_max_tool_calls`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.ai import (
    Event,
    Message,
    Provider,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    TurnEnd,
    Usage,
)
from petcare_dba.db import target
from petcare_dba.errors import PetcareError, Refused
from petcare_dba.messages import say
from petcare_dba.services import advisor, connections, intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import context, safety
from petcare_dba.services.connections import Connection
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine, plan, wrap

_SQL = {"sql": {"type": "string", "description": "Exactly one SQL statement."}}
SPECS: dict[str, tuple[str, ToolSpec]] = {
    "list_tables": (
        "schema",
        ToolSpec(
            "list_tables",
            "List tables and views, optionally filtered by schema or a name fragment.",
            {
                "type": "object",
                "properties": {
                    "schema": {"type": "string"},
                    "name_contains": {"type": "string"},
                },
            },
        ),
    ),
    "describe_table": (
        "schema",
        ToolSpec(
            "describe_table",
            "Columns, types, constraints and indexes of one table (schema.name).",
            {
                "type": "object",
                "properties": {"table": {"type": "string"}},
                "required": ["table"],
            },
        ),
    ),
    "get_advisor_findings": (
        "schema",
        ToolSpec(
            "get_advisor_findings",
            "Problems the advisor's lints find (missing indexes, no primary key, ...).",
            {"type": "object", "properties": {}},
        ),
    ),
    "explain_query": (
        "stats",
        ToolSpec(
            "explain_query",
            "EXPLAIN (without ANALYZE) one read-only statement and return the plan.",
            {"type": "object", "properties": _SQL, "required": ["sql"]},
        ),
    ),
    "get_metrics": (
        "stats",
        ToolSpec(
            "get_metrics",
            "Database counters (cache hit ratio, transactions, deadlocks) and sessions by state.",
            {"type": "object", "properties": {}},
        ),
    ),
    "run_readonly_query": (
        "data",
        ToolSpec(
            "run_readonly_query",
            "Run one read-only SELECT in a READ ONLY transaction (10 s, row cap). Anything that "
            "writes is refused: propose such SQL to the user in a ```sql block instead.",
            {"type": "object", "properties": _SQL, "required": ["sql"]},
        ),
    ),
}


@dataclass
class ToolRun:
    """What one tool call did, for the UI and the conversation log."""

    name: str
    args: dict[str, Any]
    ok: bool
    summary: str
    content: str = ""


@dataclass
class ToolBox:
    """Tools bound to one request: who asks, on which connection, with which boundary."""

    rt: Runtime
    actor: Actor
    conn: Connection | None
    consent: str
    boundary: str
    conversation_id: int | None = None
    runs: list[ToolRun] = field(default_factory=list)

    def specs(self) -> list[ToolSpec]:
        if self.conn is None:
            return []
        return [s for level, s in SPECS.values() if context.consent_allows(self.consent, level)]

    def call(self, call: ToolCall) -> ToolResult:
        """Run one call; failures become an error result the model can read."""
        entry = SPECS.get(call.name)
        try:
            if entry is None or self.conn is None:
                raise Refused(f"there is no tool named {call.name!r}")
            if not context.consent_allows(self.consent, entry[0]):
                raise Refused(
                    f"{call.name} needs AI consent '{entry[0]}' on this connection "
                    f"(it is '{self.consent}'); an admin can change it"
                )
            data = getattr(self, "_" + call.name)(**_clean_args(call.args))
            ok, summary = True, _summary(data)
            payload = json.dumps(data, default=str, ensure_ascii=False)
        except (PetcareError, TypeError) as exc:
            message = exc.message if isinstance(exc, PetcareError) else "invalid arguments"
            ok, summary = False, message
            payload = json.dumps({"error": message})
        audit.record(
            self.rt.store,
            self.actor,
            "assistant.tool",
            "ok" if ok else "error",
            connection_id=self.conn.id if self.conn else None,
            target=call.name,
            sql_text=_audit_safe(str(call.args["sql"])) if call.args.get("sql") else None,
            ai_initiated=True,
            detail={
                "args": _audit_safe(call.args),
                "conversation_id": self.conversation_id,
                "ok": ok,
            },
        )
        content = safety.wrap_untrusted(self.boundary, f"tool:{call.name}", payload)
        self.runs.append(ToolRun(call.name, dict(call.args), ok, summary, content))
        return ToolResult(call, content)

    # -- the tools (names match SPECS) --------------------------------------------------------

    def _list_tables(self, schema: str = "", name_contains: str = "") -> dict[str, Any]:
        assert self.conn is not None  # noqa: S101 - checked by call()
        entries = context.schema_index(self.rt, self.actor, self.conn)
        found = [
            e.qualified
            for e in entries
            if (not schema or e.schema == schema)
            and (not name_contains or name_contains.lower() in e.name.lower())
        ]
        return {"tables": found[:300], "total": len(found), "shown": min(300, len(found))}

    def _describe_table(self, table: str) -> dict[str, Any]:
        assert self.conn is not None  # noqa: S101 - checked by call()
        name = table if "." in table else f"public.{table}"
        text = context.describe(self.rt, self.actor, self.conn, [name], self.consent).get(name)
        if text is None or text == f"TABLE {name}":
            raise Refused(f"no table {name!r} (use list_tables)")
        return {"table": name, "definition": text}

    def _query(self, sql_text: str, explain: bool) -> engine.RunResult:
        assert self.conn is not None  # noqa: S101 - checked by call()
        intake.check(sql_text, self.rt.settings, what=say("msg.sql.what.tool"))
        found = engine.classify(sql_text)
        if len(found) != 1:
            raise Refused("send exactly one statement")
        # A call to a function only the target can resolve is decided by engine.run (viewer path).
        if not found[0].read_only and not found[0].depends_on:
            raise Refused(
                "the assistant runs read-only statements only; propose this SQL to the user "
                "in a ```sql block and they can run it from the editor"
            )
        text = found[0].text.strip().rstrip(";")
        composed = f"EXPLAIN\n{text}" if explain else text
        if explain:  # the composed EXPLAIN holds exactly the vetted statement (Q13)
            statements, _ = plan.analyse(text)
            if not statements:
                raise Refused("the statement does not parse")
            wrap.prove_explain(composed, statements[0].node, set())
        result = engine.run(
            self.rt,
            self.actor,
            self.conn.name,
            composed,
            ai_initiated=True,
            max_rows=engine.AI_MAX_ROWS,
        )
        if result.error is not None:
            raise result.error
        return result

    def _run_readonly_query(self, sql: str) -> dict[str, Any]:
        res = self._query(sql, explain=False).results[-1]
        limit = self.rt.settings.ai_max_data_rows
        return {
            "columns": list(res.columns),
            "rows": safety.mask_rows(
                res.columns, res.rows, limit, safety.personal_positions(sql, len(res.columns))
            ),
            "rows_sent": min(limit, len(res.rows)),
            "truncated": res.truncated or len(res.rows) > limit,
        }

    def _explain_query(self, sql: str) -> dict[str, Any]:
        res = self._query(sql, explain=True).results[-1]
        return {"plan": safety.mask_text("\n".join(str(r[0]) for r in res.rows))}

    def _get_advisor_findings(self) -> dict[str, Any]:
        assert self.conn is not None  # noqa: S101 - checked by call()
        app = target.application_name(self.actor.username, self.actor.session_id, ai=True)
        found = []
        for lint in advisor.lints():
            try:
                with _slot_url(self) as url:
                    rows = target.read_lint(
                        url,
                        app,
                        f"{lint.number:04d}_{lint.name}",
                        lint.arguments(self.rt.settings.values),
                        timeout_ms=engine.AI_STATEMENT_TIMEOUT_MS,
                    )
            except PetcareError:
                continue
            # Findings quote other sessions' statements: literals go, personal values are masked.
            found += [
                {
                    k: safety.scrub_literals(str(r[k])) if k in ("object", "detail") else r[k]
                    for k in ("name", "level", "object", "detail", "remediation")
                }
                for r in rows
            ]
        return {"findings": found[:50], "total": len(found)}

    def _get_metrics(self) -> dict[str, Any]:
        assert self.conn is not None  # noqa: S101 - checked by call()
        app = target.application_name(self.actor.username, self.actor.session_id, ai=True)
        with _slot_url(self) as url:
            stats = target.read(url, app, "database_stats")
        with _slot_url(self) as url:
            activity = target.read(url, app, "activity_by_state")
        return {"database": stats[0] if stats else {}, "sessions": activity}


def _slot_url(box: ToolBox) -> AbstractContextManager[str]:
    """The connection's URL while one of the user's slots on it is held (F7)."""
    assert box.conn is not None  # noqa: S101 - checked by call()
    # The assistant reads only through the least-privilege credential (issue 12, Q3).
    return connections.held(
        box.rt, box.actor, box.conn.name, read_path=True, who=say("msg.connections.who.assistant")
    )


def _audit_safe(value: Any) -> Any:
    """The call's arguments as jsonb can store them: a NUL becomes the visible text `\\x00`.

    Without this a model (or a prompt-injected page) that puts a NUL in `sql` makes the audit
    write fail, and the refused call would leave no trace.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {str(k): _audit_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_audit_safe(v) for v in value]
    return value


def _clean_args(args: dict[str, Any]) -> dict[str, Any]:
    return {str(k): (str(v) if not isinstance(v, str) else v) for k, v in args.items()}


def _summary(data: dict[str, Any]) -> str:
    if "rows" in data:
        return f"{data['rows_sent']} row(s)" + (" (truncated)" if data["truncated"] else "")
    if "tables" in data:
        return f"{data['shown']} of {data['total']} tables"
    if "findings" in data:
        return f"{data['total']} finding(s)"
    if "plan" in data:
        return data["plan"].splitlines()[0][:120] if data["plan"] else "plan"
    return "ok"


@dataclass
class LoopEvent:
    """What the loop reports to its caller: text, a tool run, usage."""

    kind: str  # text | tool | usage | limit
    text: str = ""
    tool: ToolRun | None = None
    tokens_in: int = 0
    tokens_out: int = 0


def run_loop(
    provider: Provider,
    system: str,
    messages: list[Message],
    box: ToolBox,
    max_calls: int,
) -> Iterator[LoopEvent]:
    """Ask, run the tools the model calls (at most `max_calls`), ask again, until text."""
    calls_made = 0
    final = False
    specs: Sequence[ToolSpec] = box.specs()
    while True:
        turn: Message | None = None
        asked: list[ToolCall] = []
        events: Iterator[Event] = provider.stream(system, messages, specs)
        for ev in events:
            if isinstance(ev, TextDelta):
                yield LoopEvent("text", ev.text)
            elif isinstance(ev, Usage):
                yield LoopEvent("usage", tokens_in=ev.tokens_in, tokens_out=ev.tokens_out)
            elif isinstance(ev, ToolCall):
                asked.append(ev)
            elif isinstance(ev, TurnEnd):
                turn = ev.message
        if not asked or turn is None or final:
            return
        messages.append(turn)
        results = []
        for call in asked:
            if calls_made >= max_calls:
                results.append(
                    ToolResult(call, json.dumps({"error": "tool call limit reached; answer now"}))
                )
                continue
            calls_made += 1
            result = box.call(call)
            results.append(result)
            yield LoopEvent("tool", tool=box.runs[-1])
        messages.append(Message("tool", results=tuple(results)))
        if calls_made >= max_calls:
            # One last turn without tools so the model must answer in text.
            specs, final = [], True
            yield LoopEvent("limit", f"tool call limit ({max_calls}) reached")
