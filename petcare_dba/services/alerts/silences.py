"""Silences and maintenance windows: alerts that are recorded but not delivered.

A silence matches by rule, connection and/or severity (each optional; none means every alert)
from a start to an end, with a reason and its creator. A maintenance window belongs to one
connection and is one-off (start, end) or weekly (ISO weekdays, a local start time, a duration,
an IANA time zone). While either applies, events still open, resolve and show in the history,
but their outbox rows are marked `suppressed` instead of sent (`petcare.alert_suppression`, in
migration 0024, is the one definition). dbas manage them for connections they can use, admins
for anything (RLS); every change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts.formats import clean
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

SEVERITIES = ("warning", "critical")
_DURATION = re.compile(r"^(\d{1,5})([mhd])$")


@dataclass(frozen=True)
class Silence:
    id: int
    rule: str | None
    connection: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None
    created_at: datetime
    active: bool


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    connection: str
    recurring: bool
    starts_at: datetime | None
    ends_at: datetime | None
    days: list[int]
    start_time: str | None  # HH:MM[:SS] local to tz
    duration_minutes: int | None
    tz: str
    reason: str
    created_by: str | None
    created_at: datetime
    active: bool


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `3d` as a timedelta (the CLI's --for)."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValidationError(
            say("msg.alerts.duration", text=repr(text)), hint=say("msg.alerts.duration.hint")
        )
    n, unit = int(match.group(1)), match.group(2)
    return timedelta(minutes=n) if unit == "m" else timedelta(hours=n if unit == "h" else 24 * n)


def _reason(reason: str) -> str:
    text = clean(reason, 501).strip()
    if not text or len(text) > 500:
        raise ValidationError(say("msg.alerts.reason"))
    return text


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def _id_of(tx: Any, query: str, name: str | None, missing: str) -> int | None:
    if name is None:
        return None
    found = tx.value(query, {"name": name})
    if found is None:  # never let a mistyped name widen a silence to everything
        raise NotFound(say(missing, name=repr(name)))
    return int(found)


def add_silence(
    rt: Runtime,
    actor: Actor,
    *,
    ends_at: datetime,
    reason: str,
    rule: str | None = None,
    connection: str | None = None,
    severity: str | None = None,
    starts_at: datetime | None = None,
) -> int:
    """Silence matching alerts from `starts_at` (now) until `ends_at`; audited."""
    actor.require("dba", say("msg.access.silencing_alerts"))
    if severity is not None and severity not in SEVERITIES:
        raise ValidationError(say("msg.alerts.severity"))
    start, end = _aware(starts_at), _aware(ends_at)
    if end is None or end <= (start or datetime.now(UTC)):
        raise ValidationError(say("msg.alerts.silence_end"))
    text = _reason(reason)
    with rt.store.tx(actor.identity) as tx:
        params = {
            "rule_id": _id_of(tx, "alert_rule_id", rule, "msg.alerts.no_rule"),
            "connection_id": _id_of(
                tx, "alert_connection_id", connection, "msg.alerts.no_connection"
            ),
            "severity": severity,
            "starts_at": start,
            "ends_at": end,
            "reason": text,
        }
        silence_id = int(tx.value("alert_silence_insert", params))
        detail = {"rule": rule, "connection": connection, "severity": severity, "reason": text}
        detail["ends_at"] = end.isoformat()
        audit.record_in(tx, actor, "alert.silence.add", "ok", target=str(silence_id), detail=detail)
    return silence_id


def list_silences(rt: Runtime, actor: Actor, *, include_past: bool = False) -> list[Silence]:
    """Silences not yet over (or every one), newest first."""
    with rt.store.tx(actor.identity) as tx:
        return [Silence(**r) for r in tx.all("alert_silences_list", {"all": include_past})]


def remove_silence(rt: Runtime, actor: Actor, silence_id: int) -> None:
    """End a silence now by removing it; audited."""
    actor.require("dba", say("msg.access.removing_silences"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_silence_delete", {"id": silence_id}) is None:
            raise NotFound(say("msg.alerts.no_silence", id=str(silence_id)))
        audit.record_in(tx, actor, "alert.silence.remove", "ok", target=str(silence_id))


def add_maintenance(
    rt: Runtime,
    actor: Actor,
    connection: str,
    *,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    days: list[int] | None = None,
    start_time: time | None = None,
    duration_minutes: int | None = None,
    tz: str = "UTC",
) -> int:
    """A maintenance window: one-off (starts_at, ends_at) or weekly (start_time, duration)."""
    actor.require("dba", say("msg.access.adding_maintenance_windows"))
    recurring = start_time is not None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            say("msg.alerts.zone", zone=repr(tz)), hint=say("msg.alerts.zone.hint")
        ) from exc
    if recurring:
        if not duration_minutes or not 1 <= duration_minutes <= 10080:
            raise ValidationError(say("msg.alerts.weekly_length"))
        if any(d not in range(1, 8) for d in days or []):
            raise ValidationError(say("msg.alerts.weekdays"))
        start, end = None, None
    else:
        start, end = _aware(starts_at) or datetime.now(UTC), _aware(ends_at)
        if end is None or end <= start:
            raise ValidationError(say("msg.alerts.window_end"))
    text = _reason(reason)
    with rt.store.tx(actor.identity) as tx:
        conn_id = _id_of(tx, "alert_connection_id", connection, "msg.alerts.no_connection")
        params = {
            "connection_id": conn_id,
            "recurring": recurring,
            "starts_at": start,
            "ends_at": end,
            "days": sorted(set(days or [])) if recurring else [],
            "start_time": start_time,
            "duration_minutes": duration_minutes if recurring else None,
            "tz": tz,
            "reason": text,
        }
        window_id = int(tx.value("alert_maintenance_insert", params))
        detail = {k: str(v) for k, v in params.items() if v is not None and k != "connection_id"}
        audit.record_in(
            tx,
            actor,
            "alert.maintenance.add",
            "ok",
            target=str(window_id),
            connection_id=conn_id,
            detail=detail,
        )
    return window_id


def list_maintenance(
    rt: Runtime, actor: Actor, *, include_past: bool = False
) -> list[MaintenanceWindow]:
    """Maintenance windows (one-off ones not yet over, unless include_past), newest first."""
    with rt.store.tx(actor.identity) as tx:
        found = tx.all("alert_maintenance_list", {"all": include_past})
    return [
        MaintenanceWindow(
            **{
                **r,
                "days": list(r["days"] or []),
                "start_time": r["start_time"].isoformat() if r["start_time"] else None,
            }
        )
        for r in found
    ]


def remove_maintenance(rt: Runtime, actor: Actor, window_id: int) -> None:
    """Remove a maintenance window; audited."""
    actor.require("dba", say("msg.access.removing_maintenance_windows"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_maintenance_delete", {"id": window_id}) is None:
            raise NotFound(say("msg.alerts.no_window", id=str(window_id)))
        audit.record_in(tx, actor, "alert.maintenance.remove", "ok", target=str(window_id))
