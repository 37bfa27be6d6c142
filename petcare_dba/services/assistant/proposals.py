"""Running an assistant's SQL proposal: only exactly as proposed, only as the user (AI1, AI2).

An answer's SQL is inert (`answers` stores it as a `Proposal` with its sha256 and never runs
it); `run_proposal` is the one way such text reaches the engine, when the user asks, and only if
the text is byte for byte one the message proposed, then through `engine.run` under the user's
own role and confirmations, with an audited intent and outcome. It is apart from `answers`
because it is the user's action on a stored reply, not part of asking: it never calls the model.
"""

from __future__ import annotations

from petcare_dba.errors import PetcareError, Refused
from petcare_dba.messages import say
from petcare_dba.services import intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import safety
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import RunResult, engine


def run_proposal(
    rt: Runtime,
    actor: Actor,
    message_id: int,
    sql_text: str,
    connection: str,
    *,
    confirmed: bool = False,
) -> RunResult:
    """Run a proposed SQL text exactly as proposed, as the user (never on the AI path).

    Editing the text after generation invalidates it (AI2): the edited text is the user's own
    SQL and runs from the editor like any other.
    """
    intake.check(sql_text, rt.settings)
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("ai_message_get", {"id": message_id})
    proposals = ((row or {}).get("tool_args") or {}).get("proposals") or []
    digest = safety.sql_hash(sql_text)
    match = next((p for p in proposals if p.get("sha256") == digest), None)
    if match is None:
        audit.record(
            rt.store,
            actor,
            "assistant.proposal.run",
            "refused",
            sql_text=sql_text,
            detail={"message_id": message_id, "sha256": digest, "reason": "edited or unknown"},
        )
        raise Refused(
            say("msg.assistant.not_proposed"),
            hint=say("msg.assistant.not_proposed.hint"),
        )
    # One event id pairs the intent with its outcome (A2); the statements themselves get their
    # own pairs from the engine.
    event = {
        "event_id": audit.new_event_id(),
        "sql_text": sql_text,
        "detail": {"message_id": message_id, "sha256": digest, "confirmed": confirmed},
    }
    audit.record(rt.store, actor, "assistant.proposal.run", "intent", **event)
    try:
        result = engine.run(rt, actor, connection, sql_text, confirmed=confirmed)
    except PetcareError as exc:
        outcome = _OUTCOME_OF.get(type(exc).__name__, "error")
        audit.record(rt.store, actor, "assistant.proposal.run", outcome, **event)
        raise
    outcome = (
        "ok" if result.error is None else _OUTCOME_OF.get(type(result.error).__name__, "error")
    )
    audit.record(rt.store, actor, "assistant.proposal.run", outcome, **event)
    return result


_OUTCOME_OF = {"NeedsConfirmation": "confirm", "Refused": "refused", "QueryCancelled": "cancelled"}
