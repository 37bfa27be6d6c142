"""An entry point: the engine's verdict on a script without running it (`classify --connection`).

`verdict` takes the same steps as `engine.run`, in the same order — syntax check, the decisions
that need no lookup, the transaction plan, the pg_proc lookup on the connection through the
actor's pool, the final decision of `safety.decide_script` — and stops before anything is
audited or executed, so `classify --connection C [--role R]` and the engine give one answer
(issue 12, "one decision").
"""

from __future__ import annotations

from dataclasses import dataclass

from petcare_dba.errors import Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import front, plan, safety
from petcare_dba.services.sql.safety import Classification


@dataclass(frozen=True)
class Verdict:
    """What `run` would decide for a script, without running or auditing it.

    `outcome` is allow, confirm, reject (with the rule) or error (a syntax error or a statement
    that cannot run in the transaction); `classifications` are resolved on the connection.
    """

    outcome: str
    rule: str | None
    message: str | None
    role: str
    classifications: tuple[Classification, ...]


def verdict(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    *,
    role: str | None = None,
    mode: str = "transaction",
    ai_initiated: bool = False,
) -> Verdict:
    """The engine's decision for `sql_text` on a stored connection (`classify --connection`).

    Same steps as `run` in the same order (syntax, decisions that need no lookup, transaction
    plan, pg_proc lookup through the actor's pool, final decision), with `role` in place of
    the actor's app role if given. Nothing is executed or audited.
    """
    # The one front half (front), unrecorded: the same lookup, decisions and lease as a run.
    info, _ = front.context(rt, actor, connection_name, detail={})
    ask = front.ask_for(actor, info, mode=mode, ai_initiated=ai_initiated, role=role)
    try:
        judged = front.judge_early(sql_text, ask)
    except ValidationError as exc:
        raise ValidationError(say("msg.sql.no_statement_to_classify")) from exc
    if isinstance(judged, front.Analysis):
        with front.open_lease(
            rt, actor, connection_name, info.id, info.url, ai=ai_initiated
        ) as lease:
            judged = front.judge_final(lease.conn, sql_text, judged, ask)
    if isinstance(judged, front.Analysis):
        return Verdict("allow", None, None, ask.role, tuple(judged.found))
    return _refused(judged, ask.role, sql_text)


def _refused(refusal: front.Refusal, role: str, sql_text: str) -> Verdict:
    """A refusal of the front half as the verdict's words (the rule and message of the decision)."""
    found = tuple(safety.classify_script(sql_text))
    error, detail = refusal.error, refusal.detail
    if refusal.outcome == "confirm":
        return Verdict("confirm", None, str(detail["reason"]), role, found)
    if "rule" in detail:  # a decision's Reject: its rule, its message without the prefix
        message = error.message.removeprefix("refused: ")
        return Verdict("reject", str(detail["rule"]), message, role, found)
    if isinstance(error, Refused):  # the transaction plan refused transaction control
        return Verdict("reject", plan.RULE_TRANSACTION, error.message, role, found)
    message = error.message
    if found[0].parse_error is not None and role in ("dba", "admin"):
        message += " (a dba may confirm it; it is then treated as destructive)"
    return Verdict("error", None, message, role, found)
