"""Cron expressions in a time zone: validation with readable errors, and the next due times.

A schedule's time is a five-field cron expression (minute hour day month weekday, as croniter
reads it) in an IANA time zone. Daylight saving is taken literally in the zone's wall clock: a
time that does not exist (spring forward, 02:30 on the night clocks jump from 02:00 to 03:00)
runs at the first valid time after the gap; a time that happens twice (fall back) runs once, at
its first occurrence. `missed` counts the ticks a run covers after downtime (capped) for the
catch-up policy: an overdue schedule runs once for the whole missed window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from croniter import CroniterError, croniter

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say

CRON_MAX = 120
MISSED_CAP = 1000  # counting missed ticks stops here (an every-minute schedule down for weeks)
_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?LW#]+$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ValidationError naming what is accepted."""
    text = (name or "").strip()
    if not _ZONE.match(text) or text not in _zones():
        raise ValidationError(
            say("msg.schedules.zone", zone=repr(text[:64])), hint=say("msg.schedules.zone.hint")
        )
    return ZoneInfo(text)


def validate(expr: str, tz: str = "UTC") -> tuple[str, str]:
    """The normalised (expression, zone) or a ValidationError saying what is wrong."""
    zone(tz)
    text = " ".join((expr or "").split())
    if not text:
        raise ValidationError(
            say("msg.schedules.cron_empty"), hint=say("msg.schedules.cron_empty.hint")
        )
    if len(text) > CRON_MAX:
        raise ValidationError(say("msg.schedules.cron_long", n=CRON_MAX))
    fields = text.split(" ")
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        raise ValidationError(
            say("msg.schedules.cron_shape", text=repr(text[:CRON_MAX])),
            hint=say("msg.schedules.cron_shape.hint"),
        )
    try:
        croniter(text, datetime.now(UTC))
        next_after(text, tz.strip(), datetime.now(UTC))
    except (CroniterError, ValueError, KeyError, OverflowError) as exc:
        problem = str(exc)  # croniter's own words
        raise ValidationError(
            say("msg.schedules.cron_invalid", text=repr(text), problem=problem)
        ) from exc
    return text, tz.strip()


def _second_occurrence(at: datetime) -> bool:
    """True for the repeat of a wall-clock time on a fall-back night."""
    first = at.replace(tzinfo=at.tzinfo, fold=0)
    return first.utcoffset() != at.utcoffset()


def next_after(expr: str, tz: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC."""
    local = after.astimezone(zone(tz))
    it = croniter(expr, local)
    for _ in range(10):  # a repeat is skipped at most once or twice
        at = it.get_next(datetime)
        if not _second_occurrence(at):
            return at.astimezone(UTC)
    return at.astimezone(UTC)


def ticks_between(expr: str, tz: str, start: datetime, end: datetime) -> int:
    """How many ticks fall in (start, end], capped at MISSED_CAP."""
    count, at = 0, start
    while count < MISSED_CAP:
        at = next_after(expr, tz, at)
        if at > end:
            break
        count += 1
    return count
