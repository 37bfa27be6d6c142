"""Plan stage, the decision table: per app role and connection, may classified statements run.

`decide` maps a `Classification` (from `safety.classify`), an app role (viewer, analyst, dba,
admin) and the connection's read-only flag to `Allow`, `Confirm(reason, objects)` or `Reject(rule,
message)`; `decide_script` combines those for a whole script: any Reject wins, then one Confirm
naming every object, else Allow. `safety` re-exports all of it, so callers keep one import; it
calls only `functions` and `parse`, below it. The database enforces the same boundary (reliability
Q1-Q3); this is the app's first line of defence and the source of the messages users read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from petcare_dba.messages import joined, say
from petcare_dba.services.sql import functions
from petcare_dba.services.sql.functions import CONFIRM_RULES
from petcare_dba.services.sql.parse import Classification, Kind, add_unique


@dataclass(frozen=True)
class Allow:
    """The statement may run."""


@dataclass(frozen=True)
class Confirm:
    """The statement may run after a second, explicit confirmation naming `objects`."""

    reason: str  # a `messages.Text`: the UI says it in the user's language
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reject:
    """The statement must not run; `rule` is the stable rule text, `message` the details."""

    rule: str
    message: str


Decision = Allow | Confirm | Reject

ROLES = ("viewer", "analyst", "dba", "admin")
# Stable text (the audit log and `classify` name the rule) that is also a message (`messages`).
UNPARSEABLE = say("msg.sql.reason.unparseable")
RULE_VIEWER = say("msg.sql.rule.viewer")
RULE_ANALYST = say("msg.sql.rule.analyst")
RULE_GUARD = say("msg.sql.rule.guard")
RULE_READ_ONLY_CONNECTION = say("msg.sql.rule.read_only_connection")
RULE_UNKNOWN_ROLE = say("msg.sql.rule.unknown_role")
# Rules that limit a statement to dba and admin (`functions`): settings, outbound, dynamic SQL.
RULE_SETTINGS = functions.RULE_SETTINGS
RULE_OUTBOUND = functions.RULE_OUTBOUND
RULE_DYNAMIC = functions.RULE_DYNAMIC


def _summary(c: Classification) -> str:
    effect = c.side_effects[0] if c.side_effects else say("msg.sql.effect.not_read_only")
    return say("msg.sql.summary", command=c.command, effect=effect)


def _because(rule: str, why: str) -> Reject:
    return Reject(rule, say("msg.sql.rule_because", rule=rule, why=why))


def _restricted(c: Classification) -> Reject:
    return _because(*c.restricted[0])


def decide(
    classification: Classification,
    app_role: str,
    connection_read_only: bool,
    *,
    connection_name: str | None = None,
) -> Decision:
    """Decide whether `app_role` may run one classified statement on this connection."""
    c = classification
    if app_role not in ROLES:
        return Reject(RULE_UNKNOWN_ROLE, say("msg.sql.unknown_role", role=repr(app_role)))
    if c.read_only:
        return Allow()
    if app_role == "viewer":
        # A statement limited to dba names that rule: it says more than "read-only only".
        if c.restricted:
            return _restricted(c)
        return _because(RULE_VIEWER, _summary(c))
    if connection_read_only:
        read_only = (
            say("msg.sql.read_only_connection", name=repr(connection_name), why=_summary(c))
            if connection_name
            else say("msg.sql.read_only_this_connection", why=_summary(c))
        )
        return Reject(RULE_READ_ONLY_CONNECTION, read_only)
    if app_role == "analyst":
        if c.escalates:
            return _because(RULE_GUARD, joined(c.reasons))
        if c.restricted:
            return _restricted(c)
        if c.parse_error is not None or c.kind not in (Kind.DML, Kind.SESSION):
            return _because(RULE_ANALYST, _summary(c))
    elif c.parse_error is not None:
        return Confirm(say("msg.sql.reason.unparseable_because", problem=c.parse_error), ())
    confirm = [reason for rule, reason in c.restricted if rule in CONFIRM_RULES]
    if confirm:
        return Confirm(joined(_merge(confirm, c.reasons)), c.objects)
    if c.destructive or c.unchecked or c.kind is Kind.UNKNOWN:
        return Confirm(joined(c.reasons) if c.reasons else _summary(c), c.objects)
    return Allow()


def _merge(first: list[str], rest: tuple[str, ...]) -> list[str]:
    merged: list[str] = []
    for item in [*first, *rest]:
        add_unique(merged, item)
    return merged


def decide_script(
    classifications: Iterable[Classification],
    app_role: str,
    connection_read_only: bool,
    *,
    connection_name: str | None = None,
) -> Decision:
    """Combine per-statement decisions: any Reject wins, then one Confirm for all, else Allow."""
    items = list(classifications)
    reasons: list[str] = []
    objects: list[str] = []
    for c in items:
        decision = decide(c, app_role, connection_read_only, connection_name=connection_name)
        if isinstance(decision, Reject):
            if len(items) > 1 or c.index > 0:
                numbered = say("msg.sql.statement_n", n=c.index + 1, message=decision.message)
                return replace(decision, message=numbered)
            return decision
        if isinstance(decision, Confirm):
            add_unique(reasons, decision.reason)
            for name in decision.objects:
                add_unique(objects, name)
    if reasons:
        return Confirm(joined(reasons), tuple(objects))
    return Allow()
