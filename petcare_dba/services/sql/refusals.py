"""Plan stage, the refusals: who asks, and the Refusal a caller records instead of running.

`Ask` is who asks to run a script and how; `check_syntax` turns text the parser rejects into a
`Refusal` (line and column) unless a dba or admin confirmed it; `decide` turns the per-role
decision of `safety.decide_script` into a `Refusal` (refused, or a confirmation not yet given),
before the pg_proc lookup only for what needs no lookup (`decidable_early`), and names the first
offending statement; `Vet` is an entry point's own rule on a script. The caller (the one front
half, `front`) records a Refusal (`record.refused`) and raises its error. It is apart from
`plan` because `plan` chooses how statements run once they may; this module only says no, and
imports nothing of the plan, so `plan.early`/`plan.final` call it in the engine's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.errors import NeedsConfirmation, PetcareError, Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.sql import safety
from petcare_dba.services.sql.safety import Classification, Statement


def syntax_error(script: str) -> ValidationError | None:
    """The parser's error (line, column, position) for text that does not parse, else None."""
    try:
        safety.split(script)
    except ValidationError as exc:
        return exc
    return None


def decidable_early(classifications: Sequence[Classification]) -> list[Classification]:
    """The classifications a decision before the pg_proc lookup may use: those that do not
    wait on a function only the connection can resolve."""
    return [c for c in classifications if not c.depends_on]


def refusal(decision: safety.Decision, confirmed: bool) -> Refused | None:
    """The error for a Reject, or for a Confirm the caller has not confirmed; else None."""
    if isinstance(decision, safety.Reject):
        return Refused(
            say("msg.sql.refused", message=decision.message),
            hint=say("msg.sql.rule_hint", rule=decision.rule),
        )
    if isinstance(decision, safety.Confirm) and not confirmed:
        what = ", ".join(decision.objects) or say("msg.sql.confirm.unknown_objects")
        return NeedsConfirmation(
            say("msg.sql.confirm", reason=decision.reason, objects=what),
            objects=decision.objects,
            reason=decision.reason,
            hint=say("msg.sql.confirm.hint"),
        )
    return None


@dataclass(frozen=True)
class Ask:
    """Who asks to run a script, and how: everything the decisions and the plan depend on."""

    role: str  # the app role decided for (the assistant always asks as viewer)
    read_only_conn: bool
    confirmed: bool
    mode: str
    read_only_path: bool
    connection_name: str | None = None


@dataclass(frozen=True)
class Refusal:
    """A decision not to run, for the caller to record (`record.refused`) and raise.

    `outcome` is the word the audit and execucoes_scripts rows keep: refused, confirm (a prompt)
    or error (a syntax error); `classification` is the statement the rows name.
    """

    classification: Classification
    outcome: str
    error: PetcareError
    detail: dict[str, Any] = field(default_factory=dict)


# An entry point's own rule on a script (export: one read-only SELECT), applied before the
# syntax check and the role's decision, and again after the pg_proc lookup (final=True): it may
# only refuse, never allow what the decision refuses.
Vet = Callable[[list[Statement], list[Classification], bool], Refusal | None]


def check_syntax(
    sql_text: str, found: Sequence[Classification], role: str, confirmed: bool
) -> Refusal | None:
    """A syntax error with line and column, before anything reaches the server; else None.

    A dba or admin may still confirm text the parser rejects (PostgreSQL may accept syntax
    newer than pglast's); everyone else gets the syntax error.
    """
    if found[0].parse_error is None:
        return None
    error = syntax_error(sql_text)
    if error is None:  # the classifier itself failed: fail closed, as for a syntax error
        error = ValidationError(found[0].parse_error)
    if role in ("dba", "admin"):
        if confirmed:
            return None
        more = say("msg.sql.syntax.confirm_hint")
        error.hint = say("msg.sql.hints", first=error.hint, second=more) if error.hint else more
    return Refusal(found[0], "error", error)


def decide(found: Sequence[Classification], ask: Ask, *, final: bool) -> Refusal | None:
    """The per-role decision on a script as a Refusal, or None when it may run (so far).

    Before the pg_proc lookup (`final=False`) only statements that wait on no function are
    decided, and only a Reject refuses: a Confirm may still become a Reject once volatility is
    known, and a refusal then needs no connection.
    """
    if not final:
        found = decidable_early(found)
        if not found:
            return None
    decision = safety.decide_script(
        found, ask.role, ask.read_only_conn, connection_name=ask.connection_name
    )
    error = refusal(decision, ask.confirmed)
    if error is None or (not final and not isinstance(decision, safety.Reject)):
        return None
    offending = _first_offending(found, ask.role, ask.read_only_conn)
    if isinstance(decision, safety.Reject):
        return Refusal(offending, "refused", error, {"rule": decision.rule})
    assert isinstance(decision, safety.Confirm)  # noqa: S101 - refusal() returned one
    detail = {"reason": decision.reason, "objects": list(decision.objects)}
    return Refusal(offending, "confirm", error, detail)


def _first_offending(
    found: Sequence[Classification], role: str, read_only_conn: bool
) -> Classification:
    for c in found:
        if not isinstance(safety.decide(c, role, read_only_conn), safety.Allow):
            return c
    return found[0]
