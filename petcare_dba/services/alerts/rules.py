"""Alert rules, their evaluation after each sample, and the event history.

A rule compares one collected metric with a threshold (`>`, `>=`, `<`, `<=`); it fires when the
condition has held for `duration_s` (the clock lives in `alert_state`, so it survives a change
of collector leader) and resolves on the first sample where it no longer holds. There is at
most one firing event per rule and connection (a partial unique index: de-duplication), repeated
samples only touch it, and a rule that fired more than `alert_flap_limit` times in an hour opens
its event as *flapping*: recorded and shown, but not notified (flapping guard). Evaluation runs
inside the collector's transaction and writes the notifications to the outbox in it (`outbox`);
after the commit `deliver` only wakes the delivery thread, so sending never delays sampling.
Rule changes and acknowledgements are audited.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import deliverer, outbox
from petcare_dba.services.alerts.formats import Notification
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
SEVERITIES = ("warning", "critical")


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    metric: str
    comparator: str
    threshold: float
    duration_s: int
    severity: str
    scope: str
    enabled: bool
    description: str


@dataclass(frozen=True)
class Event:
    id: int
    rule: str
    metric: str
    connection: str | None
    severity: str
    state: str
    value: float | None
    last_value: float | None
    message: str
    flapping: bool
    started_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None


def _message(rule: Rule, value: float, connection: str | None) -> str:
    where = f"[{connection}] " if connection else "[app] "
    return (
        f"{where}{rule.name}: {rule.metric} is {value:.4g} "
        f"({rule.comparator} {rule.threshold:g}). {rule.description}"
    )


def evaluate(
    tx: Any, rt: Runtime, conn_id: int | None, metrics: dict[str, float]
) -> list[Notification]:
    """Evaluate the scope's rules against one sample inside the collector's transaction."""
    scope = "app" if conn_id is None else "connection"
    rules = [Rule(**r) for r in tx.all("alert_rules_for_scope", {"scope": scope})]
    if not rules:
        return []
    conn_name = tx.value("alert_connection_name", {"conn": conn_id}) if conn_id else None
    flap_limit = rt.settings.alert_flap_limit
    notes: list[Notification] = []
    for rule in rules:
        value = metrics.get(rule.metric)
        if value is None:
            continue  # no data this round (e.g. no block reads): keep the current state
        breaching = COMPARATORS[rule.comparator](float(value), float(rule.threshold))
        held = tx.value(
            "alert_state_put",
            {"rule": rule.id, "key": conn_id or 0, "breaching": breaching, "value": value},
        )
        firing = tx.one("alert_firing_get", {"rule": rule.id, "conn": conn_id})
        if breaching and float(held) >= rule.duration_s:
            if firing is not None:
                tx.execute("alert_event_touch", {"id": firing["id"], "value": value})
                continue
            message = _message(rule, float(value), conn_name)
            row = tx.one(
                "alert_event_open",
                {
                    "rule": rule.id,
                    "conn": conn_id,
                    "severity": rule.severity,
                    "value": value,
                    "message": message,
                    "flap_limit": flap_limit,
                },
            )
            assert row is not None  # noqa: S101 - INSERT ... RETURNING
            if not row["flapping"]:
                notes.append(
                    Notification(
                        "firing",
                        int(row["id"]),
                        rule.name,
                        rule.severity,
                        conn_name,
                        rule.metric,
                        float(value),
                        rule.threshold,
                        message,
                        row["started_at"].isoformat(),
                    )
                )
        elif not breaching and firing is not None:
            row = tx.one("alert_event_resolve", {"id": firing["id"], "value": value})
            assert row is not None  # noqa: S101 - UPDATE ... RETURNING of a locked row
            if not row["flapping"]:
                notes.append(
                    Notification(
                        "resolved",
                        int(row["id"]),
                        rule.name,
                        rule.severity,
                        conn_name,
                        rule.metric,
                        float(value),
                        rule.threshold,
                        f"resolved: {_message(rule, float(value), conn_name)}",
                        row["started_at"].isoformat(),
                    )
                )
    outbox.enqueue(tx, notes)
    return notes


def deliver(rt: Runtime, notes: list[Notification]) -> None:
    """After the evaluating transaction committed: wake the delivery thread (never sends here).

    The notifications are already in the outbox; this returns at once. Called after every
    round even without notes, so a restarted process picks up rows left pending.
    """
    deliverer.wake(rt)
    del notes  # already in the outbox


def list_rules(rt: Runtime, actor: Actor) -> list[Rule]:
    """Every alert rule."""
    with rt.store.tx(actor.identity) as tx:
        return [Rule(**r) for r in tx.all("alert_rules_list")]


def update_rule(
    rt: Runtime,
    actor: Actor,
    name: str,
    *,
    threshold: float | None = None,
    comparator: str | None = None,
    duration_s: int | None = None,
    severity: str | None = None,
    enabled: bool | None = None,
) -> None:
    """Change a rule (admins); audited."""
    actor.require("admin", say("msg.access.changing_alert_rules"))
    if comparator is not None and comparator not in COMPARATORS:
        raise ValidationError(say("msg.alerts.comparator", choices=", ".join(COMPARATORS)))
    if severity is not None and severity not in SEVERITIES:
        raise ValidationError(say("msg.alerts.severity"))
    if duration_s is not None and duration_s < 0:
        raise ValidationError(say("msg.alerts.negative_duration"))
    changes = {
        "threshold": threshold,
        "comparator": comparator,
        "duration_s": duration_s,
        "severity": severity,
        "enabled": enabled,
    }
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_rule_update", {"name": name, **changes}) is None:
            raise NotFound(say("msg.alerts.no_rule", name=repr(name)))
    audit.record(
        rt.store,
        actor,
        "alert.rule.update",
        "ok",
        target=name,
        detail={k: v for k, v in changes.items() if v is not None},
    )


def add_rule(
    rt: Runtime,
    actor: Actor,
    name: str,
    metric: str,
    comparator: str,
    threshold: float,
    *,
    duration_s: int = 0,
    severity: str = "warning",
    scope: str = "connection",
    description: str = "",
) -> int:
    """Create a custom rule on any collected metric (admins); audited."""
    actor.require("admin", say("msg.access.adding_alert_rules"))
    if comparator not in COMPARATORS or severity not in SEVERITIES:
        raise ValidationError(say("msg.alerts.rule_shape"))
    params = {
        "name": name,
        "metric": metric,
        "comparator": comparator,
        "threshold": threshold,
        "duration_s": duration_s,
        "severity": severity,
        "scope": scope,
        "description": description,
    }
    with rt.store.tx(actor.identity) as tx:
        rule_id = int(tx.value("alert_rule_insert", params))
    audit.record(rt.store, actor, "alert.rule.add", "ok", target=name, detail=params)
    return rule_id


def history(
    rt: Runtime,
    actor: Actor,
    *,
    state: str | None = None,
    connection: str | None = None,
    limit: int = 200,
) -> list[Event]:
    """Alert events the actor may see, newest first (`state`: firing or resolved)."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all(
            "alert_events_list", {"state": state, "connection": connection, "limit": limit}
        )
    return [Event(**r) for r in rows]


def acknowledge(rt: Runtime, actor: Actor, event_id: int) -> None:
    """Acknowledge an event (dba or admin); audited."""
    actor.require("dba", say("msg.access.acknowledging_alerts"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_ack", {"id": event_id}) is None:
            raise NotFound(say("msg.alerts.no_event", id=str(event_id)))
    audit.record(rt.store, actor, "alert.acknowledge", "ok", target=str(event_id))
