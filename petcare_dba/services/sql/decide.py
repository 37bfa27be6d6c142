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

from petcare_dba.services.sql import functions
from petcare_dba.services.sql.functions import CONFIRM_RULES
from petcare_dba.services.sql.parse import Classification, Kind, add_unique


@dataclass(frozen=True)
class Allow:
    """The statement may run."""


@dataclass(frozen=True)
class Confirm:
    """The statement may run after a second, explicit confirmation naming `objects`."""

    reason: str
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reject:
    """The statement must not run; `rule` is the stable rule text, `message` the details."""

    rule: str
    message: str


Decision = Allow | Confirm | Reject

ROLES = ("viewer", "analyst", "dba", "admin")
UNPARSEABLE = "could not be parsed; treated as destructive"
RULE_VIEWER = "viewer may run read-only statements only"
RULE_ANALYST = "analyst may run read-only statements and DML only"
RULE_GUARD = "only dba and admin may change the role, read-only mode or timeouts"
RULE_READ_ONLY_CONNECTION = "read-only connections run read-only statements only"
RULE_UNKNOWN_ROLE = "unknown app role"
# Rules that limit a statement to dba and admin (`functions`): settings, outbound, dynamic SQL.
RULE_SETTINGS = functions.RULE_SETTINGS
RULE_OUTBOUND = functions.RULE_OUTBOUND
RULE_DYNAMIC = functions.RULE_DYNAMIC


def _summary(c: Classification) -> str:
    effect = c.side_effects[0] if c.side_effects else "is not read-only"
    return f"{c.command} {effect}"


def _restricted(c: Classification) -> Reject:
    rule, reason = c.restricted[0]
    return Reject(rule, f"{rule} ({reason})")


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
        return Reject(RULE_UNKNOWN_ROLE, f"app role {app_role!r} is unknown; nothing may run")
    if c.read_only:
        return Allow()
    if app_role == "viewer":
        # A statement limited to dba names that rule: it says more than "read-only only".
        if c.restricted:
            return _restricted(c)
        return Reject(RULE_VIEWER, f"{RULE_VIEWER} ({_summary(c)})")
    if connection_read_only:
        which = f"connection {connection_name!r}" if connection_name else "this connection"
        return Reject(RULE_READ_ONLY_CONNECTION, f"{which} is read-only ({_summary(c)})")
    if app_role == "analyst":
        if c.escalates:
            return Reject(RULE_GUARD, f"{RULE_GUARD} ({'; '.join(c.reasons)})")
        if c.restricted:
            return _restricted(c)
        if c.parse_error is not None or c.kind not in (Kind.DML, Kind.SESSION):
            return Reject(RULE_ANALYST, f"{RULE_ANALYST} ({_summary(c)})")
    elif c.parse_error is not None:
        return Confirm(f"{UNPARSEABLE}: {c.parse_error}", ())
    confirm = [reason for rule, reason in c.restricted if rule in CONFIRM_RULES]
    if confirm:
        return Confirm("; ".join(_merge(confirm, c.reasons)), c.objects)
    if c.destructive or c.unchecked or c.kind is Kind.UNKNOWN:
        return Confirm("; ".join(c.reasons) or _summary(c), c.objects)
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
                return replace(decision, message=f"statement {c.index + 1}: {decision.message}")
            return decision
        if isinstance(decision, Confirm):
            add_unique(reasons, decision.reason)
            for name in decision.objects:
                add_unique(objects, name)
    if reasons:
        return Confirm("; ".join(reasons), tuple(objects))
    return Allow()
