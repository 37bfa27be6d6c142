"""Stored assistant conversations: list, read, rename, delete; tokens spent; AI consent.

Conversations and their messages live in `ai_conversations` and `duvidas_analitics_ia` under row
level security (each user sees only their own). Deleting a conversation hides it and erases its
text but keeps its token counts, so deleting does not refund the daily quota. `set_consent`
changes what the assistant may see of a connection and is for admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import context
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    tokens_total: int
    created_at: datetime
    updated_at: datetime
    connection: str | None
    messages: int = 0


@dataclass(frozen=True)
class ChatMessage:
    id: int
    role: str
    content: str
    tool_name: str | None
    tool_args: Any
    context_sent: Any
    model: str | None
    tokens_in: int
    tokens_out: int
    created_at: datetime


def _conv(row: dict[str, Any]) -> Conversation:
    return Conversation(
        int(row["id"]),
        row["title"],
        int(row["tokens_total"]),
        row["created_at"],
        row["updated_at"],
        row["connection"],
        int(row.get("messages") or 0),
    )


def tokens_today(rt: Runtime, actor: Actor) -> int:
    """Tokens the actor spent today (UTC)."""
    with rt.store.tx(actor.identity) as tx:
        return int(tx.value("ai_tokens_today", {"user_id": actor.user_id}) or 0)


def list_conversations(rt: Runtime, actor: Actor, limit: int = 50) -> list[Conversation]:
    """The actor's conversations, newest first."""
    with rt.store.tx(actor.identity) as tx:
        return [_conv(r) for r in tx.all("ai_conversation_list", {"limit": limit})]


def get_conversation(rt: Runtime, actor: Actor, conv_id: int) -> Conversation:
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("ai_conversation_get", {"id": conv_id})
    if row is None:
        raise NotFound(
            say("msg.assistant.no_conversation", id=str(conv_id)),
            hint=say("msg.assistant.no_conversation.hint"),
        )
    return _conv(row)


def messages(rt: Runtime, actor: Actor, conv_id: int) -> list[ChatMessage]:
    """The messages of one of the actor's conversations, in order."""
    get_conversation(rt, actor, conv_id)
    with rt.store.tx(actor.identity) as tx:
        return [ChatMessage(**r) for r in tx.all("ai_message_list", {"id": conv_id})]


def rename_conversation(rt: Runtime, actor: Actor, conv_id: int, title: str) -> None:
    title = title.strip()[:200]
    if not title:
        raise ValidationError(say("msg.assistant.title"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("ai_conversation_rename", {"id": conv_id, "title": title}) is None:
            raise NotFound(say("msg.assistant.no_conversation", id=str(conv_id)))


def delete_conversation(rt: Runtime, actor: Actor, conv_id: int) -> None:
    """Delete a conversation's text; its token counts stay for the daily quota."""
    with rt.store.tx(actor.identity) as tx:
        if tx.value("ai_conversation_delete", {"id": conv_id}) is None:
            raise NotFound(say("msg.assistant.no_conversation", id=str(conv_id)))
        tx.execute("ai_conversation_scrub", {"id": conv_id})
    audit.record(rt.store, actor, "assistant.delete", "ok", target=str(conv_id))


def set_consent(rt: Runtime, actor: Actor, connection: str, level: str) -> None:
    """Change what the assistant may see of a connection (admins only)."""
    actor.require("admin", say("msg.access.ai_consent"))
    if level not in context.CONSENT_LEVELS:
        choices = ", ".join(context.CONSENT_LEVELS)
        raise ValidationError(say("msg.assistant.consent", choices=choices))
    with rt.store.tx(actor.identity) as tx:
        conn_id = tx.value("ai_consent_set", {"name": connection, "consent": level})
    if conn_id is None:
        raise NotFound(say("msg.connections.unknown", name=repr(connection)))
    audit.record(
        rt.store,
        actor,
        "assistant.consent",
        "ok",
        connection_id=int(conn_id),
        target=connection,
        detail={"consent": level},
    )
