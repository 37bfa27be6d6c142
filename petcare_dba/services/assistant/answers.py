"""The AI assistant: ask questions about a connection, keep conversations, never hurt the data.

`ask` returns an `AskStream`: iterate it for text and tool events as they arrive; when it is
exhausted, `.answer` holds the stored reply with its tool runs, SQL proposals, token counts and
the exact context sent. Conversations live in `ai_conversations` / `duvidas_analitics_ia` under
row level security (a user sees only their own), are titled, listable, resumable and deletable,
and are compacted once their history passes `ai_conversation_tokens`. A per-user daily token
quota (`ai_daily_token_quota`) is checked before each question. SQL in an answer is a
`Proposal`: it is never executed here; `run_proposal` runs it only when the text the user runs is
exactly the proposed text, under the user's own role and confirmations (AI1, AI2; that run lives
in `proposals`). Every question, tool call, proposal and proposal run is audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.ai import Message, disabled_error, estimate_tokens, make_provider
from petcare_dba.errors import PetcareError, QuotaExceeded, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections, intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import context, prompts, safety
from petcare_dba.services.assistant.context import Context
from petcare_dba.services.assistant.conversations import (
    ChatMessage,
    Conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
    messages,
    rename_conversation,
    set_consent,
    tokens_today,
)
from petcare_dba.services.assistant.safety import Proposal
from petcare_dba.services.assistant.tools import LoopEvent, ToolBox, ToolRun, run_loop
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

_KEEP_RECENT = 6
__all__ = [
    "Answer",
    "AskStream",
    "ChatMessage",
    "Conversation",
    "ask",
    "ask_all",
    "delete_conversation",
    "draft_sql",
    "get_conversation",
    "list_conversations",
    "messages",
    "rename_conversation",
    "set_consent",
    "tokens_today",
]


@dataclass(frozen=True)
class Answer:
    """A stored reply: text, what the tools did, what SQL it proposes, what it cost."""

    conversation_id: int
    message_id: int
    text: str
    tools: tuple[ToolRun, ...]
    proposals: tuple[Proposal, ...]
    context: Context
    sent: dict[str, Any]
    tokens_in: int
    tokens_out: int
    model: str


def system_prompt(boundary: str, consent: str, language: str | None) -> str:
    """The instructions every request carries."""
    return "\n".join(
        [
            "You are the PostgreSQL assistant of PetCare DBA Admin. You help administrators "
            "and analysts understand the schema, write and optimise SQL, and explain errors, "
            "plans and advisor findings.",
            "Rules:",
            "- You cannot change the database: your tools are read-only and run in READ ONLY "
            "transactions. Never claim that you changed data or schema.",
            "- When SQL that writes or changes the schema is useful, show it in a ```sql block "
            "as a proposal. The user decides whether to run it, from the SQL editor, with "
            "their own permissions and confirmations.",
            "- Use schema-qualified names and PostgreSQL syntax. Be concise.",
            f"- AI consent for this connection is '{consent}' (none < schema < stats < data): "
            "do not ask for more than it allows.",
            "- " + safety.boundary_rule(boundary),
            f"- Answer in the user's language ({language or 'en'}).",
        ]
    )


def _history(rt: Runtime, actor: Actor, conv: Conversation) -> tuple[list[Message], str | None]:
    """Earlier turns as messages; older ones condensed once past ai_conversation_tokens."""
    rows = [m for m in messages(rt, actor, conv.id) if m.role in ("user", "assistant")]
    turns = [Message("user" if m.role == "user" else "model", m.content) for m in rows]
    size = sum(estimate_tokens(m.text) for m in turns)
    if size <= rt.settings.ai_conversation_tokens or len(turns) <= _KEEP_RECENT:
        return turns, None
    old, recent = turns[:-_KEEP_RECENT], turns[-_KEEP_RECENT:]
    lines = [f"{'User' if m.role == 'user' else 'Assistant'}: {m.text[:300]}" for m in old]
    summary = "Summary of the earlier conversation (condensed):\n" + "\n".join(lines)
    summary = summary[: rt.settings.ai_conversation_tokens * 2]
    return [Message("user", summary), Message("model", "Understood."), *recent], summary


@dataclass
class AskStream:
    """Iterate for LoopEvents ('text', 'tool', 'limit', 'usage'); then read `.answer`."""

    rt: Runtime
    actor: Actor
    conv: Conversation
    conn: connections.Connection | None
    question: str
    box: ToolBox
    ctx: Context
    system: str
    history: list[Message]
    summary: str | None
    provider: Any
    answer: Answer | None = None
    _text: list[str] = field(default_factory=list)

    @property
    def sent(self) -> dict[str, Any]:
        """Exactly what the first request carried (the UI's 'what was sent' expander)."""
        return {
            "provider": self.provider.name,
            "model": self.provider.model,
            "system": self.system,
            "history_messages": len(self.history) - 1,
            "user": self.history[-1].text,
            "tools": [s.name for s in self.box.specs()],
            "context": self.ctx.payload,
            "context_tokens": self.ctx.tokens,
        }

    def __iter__(self) -> Iterator[LoopEvent]:
        tokens_in = tokens_out = 0
        conn_id = self.conn.id if self.conn else None
        try:
            for ev in run_loop(
                self.provider,
                self.system,
                list(self.history),
                self.box,
                self.rt.settings.ai_max_tool_calls,
            ):
                if ev.kind == "usage":
                    tokens_in += ev.tokens_in
                    tokens_out += ev.tokens_out
                    continue
                if ev.kind == "text":
                    self._text.append(ev.text)
                yield ev
        except PetcareError as exc:
            audit.record(
                self.rt.store,
                self.actor,
                "assistant.answer",
                "error",
                connection_id=conn_id,
                ai_initiated=True,
                detail={"conversation_id": self.conv.id, "error": exc.message},
            )
            raise
        text = "".join(self._text)
        if not tokens_in:  # providers that report no usage: estimate, never count zero
            tokens_in = estimate_tokens(json.dumps(self.sent))
            tokens_out = estimate_tokens(text)
        self.answer = self._store(text, tokens_in, tokens_out)

    def _store(self, text: str, tokens_in: int, tokens_out: int) -> Answer:
        proposals = tuple(safety.proposals_in(text))
        tool_args = {
            "tools": [
                {"name": r.name, "args": r.args, "ok": r.ok, "summary": r.summary}
                for r in self.box.runs
            ],
            "proposals": [p.__dict__ for p in proposals],
        }
        with self.rt.store.tx(self.actor.identity) as tx:
            for r in self.box.runs:
                self.insert(tx, "tool", r.summary, r.name, {"args": r.args, "ok": r.ok})
            msg_id = self.insert(
                tx, "assistant", text, None, tool_args, tokens=(tokens_in, tokens_out)
            )
            tx.execute(
                "ai_conversation_touch",
                {"id": self.conv.id, "tokens": tokens_in + tokens_out, "summary": self.summary},
            )
        conn_id = self.conn.id if self.conn else None
        audit.record(
            self.rt.store,
            self.actor,
            "assistant.answer",
            "ok",
            connection_id=conn_id,
            ai_initiated=True,
            detail={
                "conversation_id": self.conv.id,
                "message_id": msg_id,
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "tools": [r.name for r in self.box.runs],
                "proposals": [p.sha256 for p in proposals],
            },
        )
        for p in proposals:
            audit.record(
                self.rt.store,
                self.actor,
                "assistant.propose",
                "ok",
                connection_id=conn_id,
                sql_text=p.sql,
                classification="read_only" if p.read_only else "write",
                ai_initiated=True,
                detail={"message_id": msg_id, "sha256": p.sha256, "executed": False},
            )
        return Answer(
            self.conv.id,
            msg_id,
            text,
            tuple(self.box.runs),
            proposals,
            self.ctx,
            self.sent,
            tokens_in,
            tokens_out,
            self.provider.model,
        )

    def insert(
        self,
        tx: Any,
        role: str,
        content: str,
        tool: str | None,
        args: Any,
        *,
        tokens: tuple[int, int] = (0, 0),
        sent: Any = None,
    ) -> int:
        """Insert one message of this conversation in `tx`; its id (`ask` adds the question)."""
        return int(
            tx.value(
                "ai_message_insert",
                {
                    "conversation_id": self.conv.id,
                    "user_id": self.actor.user_id,
                    "role": role,
                    "content": content,
                    "tool_name": tool,
                    "tool_args": json.dumps(args, default=str) if args is not None else None,
                    "context_sent": json.dumps(sent, default=str) if sent is not None else None,
                    "model": self.provider.model,
                    "tokens_in": tokens[0],
                    "tokens_out": tokens[1],
                },
            )
        )


def ask(
    rt: Runtime,
    actor: Actor,
    question: str,
    *,
    connection: str | None = None,
    conversation_id: int | None = None,
    editor_sql: str = "",
    last_error: str = "",
    findings: Sequence[Any] = (),
) -> AskStream:
    """Prepare a question (quota, conversation, context); iterate the result to run it."""
    intake.check(question, rt.settings, what=say("msg.sql.what.question"))
    intake.check(editor_sql, rt.settings, what=say("msg.sql.what.editor"))
    question = question.strip()
    if not question:
        raise ValidationError(say("msg.assistant.ask"))
    quota = rt.settings.ai_daily_token_quota
    if quota > 0 and tokens_today(rt, actor) >= quota:
        raise QuotaExceeded(
            say("msg.assistant.quota", quota=quota),
            hint=say("msg.assistant.quota.hint"),
        )
    provider = make_provider(rt.settings)
    if provider.name == "disabled":
        raise disabled_error()
    conn = connections.get(rt, actor, connection) if connection else None
    if conversation_id is not None:
        conv = get_conversation(rt, actor, conversation_id)
    else:
        with rt.store.tx(actor.identity) as tx:
            new_id = tx.value(
                "ai_conversation_create",
                {
                    "user_id": actor.user_id,
                    "connection_id": conn.id if conn else None,
                    "title": " ".join(question.split())[:80],
                },
            )
        conv = get_conversation(rt, actor, int(new_id))
    boundary = safety.new_boundary()
    ctx = context.build(
        rt,
        actor,
        conn,
        question,
        boundary=boundary,
        editor_sql=editor_sql,
        last_error=last_error,
        findings=findings,
    )
    history, summary = _history(rt, actor, conv)
    user_text = question + ("\n\nContext:\n" + ctx.text if ctx.text else "")
    history.append(Message("user", user_text))
    box = ToolBox(rt, actor, conn, ctx.consent, boundary, conv.id)
    stream = AskStream(
        rt,
        actor,
        conv,
        conn,
        question,
        box,
        ctx,
        system_prompt(boundary, ctx.consent, actor.language),
        history,
        summary,
        provider,
    )
    with rt.store.tx(actor.identity) as tx:
        stream.insert(tx, "user", question, None, None, sent=stream.sent)
    audit.record(
        rt.store,
        actor,
        "assistant.ask",
        "ok",
        connection_id=conn.id if conn else None,
        target=question[:200],
        ai_initiated=True,
        detail={
            "conversation_id": conv.id,
            "consent": ctx.consent,
            "context_tokens": ctx.tokens,
            "tables": list(ctx.tables),
        },
    )
    return stream


def ask_all(rt: Runtime, actor: Actor, question: str, **kwargs: Any) -> Answer:
    """`ask` and wait for the whole answer."""
    stream = ask(rt, actor, question, **kwargs)
    for _ in stream:
        pass
    assert stream.answer is not None  # noqa: S101 - set when the iteration ends
    return stream.answer


def draft_sql(
    rt: Runtime, actor: Actor, request: str, *, connection: str | None = None
) -> Proposal | None:
    """'Write SQL for …': the first statement the assistant proposes (for the editor, not run)."""
    answer = ask_all(rt, actor, prompts.write_sql(request), connection=connection)
    return answer.proposals[0] if answer.proposals else None
