"""The alert outbox: notifications written with their event, delivered later, exactly once.

`enqueue` runs inside the transaction that opened or resolved an event and writes one row per
enabled channel (suppressed at once while a silence or maintenance window applies). `deliver_due`
is the delivery job: it claims one due row at a time with FOR UPDATE SKIP LOCKED, so any number
of app instances and workers can run it at once and a row is sent by one of them only; it sends
while holding the row lock and commits the outcome with the attempt log in the same transaction.
A failure is retried after `alert_retry_base_s * 2^(attempt-1)` seconds (capped at
`alert_retry_max_delay_s`, with "equal jitter": half fixed, half random) until
`alert_retry_max_attempts` attempts or `alert_retry_max_age_s` seconds, then the row is dead. A
process dying between the send and the commit leaves the row pending, so it is sent again: the
idempotency key (in the payload and the `X-Petcare-Idempotency-Key` header; PagerDuty's dedup
key) lets a receiver drop that duplicate. `delivery_counts` is what /metrics reads.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.messages import recognised_in, say
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels
from petcare_dba.services.alerts.formats import Notification
from petcare_dba.services.observability import metrics
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryReport:
    """What one run of the delivery job did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    suppressed: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead + self.suppressed


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: int | None
    kind: str
    channel: str
    channel_kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    suppressed_by: str | None
    idempotency_key: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class DeliveryCount:
    """Cumulative count of one channel kind and outcome (delivered, failed, dead, ...)."""

    channel_kind: str
    outcome: str
    count: int


def enqueue(tx: Any, notes: list[Notification]) -> None:
    """Write the notifications' outbox rows in the caller's (the evaluating) transaction."""
    for note in notes:
        if note.event_id is None:
            continue
        tx.execute(
            "alert_outbox_enqueue",
            {
                "event": note.event_id,
                "kind": note.kind,
                "payload": json.dumps(note.as_payload(), default=str),
            },
        )


def backoff_s(settings: Any, attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones (equal jitter)."""
    ceiling = min(
        float(settings.alert_retry_max_delay_s),
        float(settings.alert_retry_base_s) * 2 ** max(attempts - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def _actor(rt: Runtime) -> Actor:
    return dataclasses.replace(users.actor_for(rt, None), session_id="alerts")


def _done(tx: Any, row_id: int, state: str, **fields: Any) -> None:
    tx.execute(
        "alert_outbox_done",
        {
            "id": row_id,
            "state": state,
            "attempted": fields.get("attempted", 1),
            "error": fields.get("error"),
            "suppressed_by": fields.get("suppressed_by"),
            "delay_s": fields.get("delay_s", 0.0),
        },
    )


def _one(rt: Runtime, actor: Actor) -> str | None:
    """Claim, send and settle one due row; its outcome, or None when nothing is due."""
    s = rt.settings
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("alert_outbox_claim")
        if row is None:
            return None
        if row["suppressed_by"]:  # a silence or window began after the row was written
            _done(tx, row["id"], "suppressed", attempted=0, suppressed_by=row["suppressed_by"])
            return "suppressed"
        note = Notification.from_payload(row["payload"])
        if not row["enabled"]:
            _done(tx, row["id"], "dead", attempted=0, error=say("msg.outbound.channel_disabled"))
            return "dead"
        channel = {**row, "id": row["channel_id"], "kind": row["channel_kind"]}
        result = channels.send_one(rt, channel, note, row["idempotency_key"])
        metrics.alert_delivered(str(row["channel_kind"]), result.ok)
        channels.record_attempt(tx, int(row["channel_id"]), note, result)
        attempts = int(row["attempts"]) + 1
        if result.ok:
            _done(tx, row["id"], "delivered")
            return "delivered"
        delay = backoff_s(s, attempts)
        expired = (
            result.permanent
            or attempts >= int(s.alert_retry_max_attempts)
            or float(row["age_s"]) + delay > float(s.alert_retry_max_age_s)
        )
        state = "dead" if expired else "pending"
        _done(tx, row["id"], state, error=(result.error or "")[:500], delay_s=delay)
        if expired:
            log.warning(
                "alert outbox row %s to %r is dead: %s", row["id"], row["name"], result.error
            )
        return "dead" if expired else "retried"


def deliver_due(rt: Runtime, *, limit: int = 200, budget_s: float = 60.0) -> DeliveryReport:
    """The delivery job: send every due outbox row (at most `limit`, for about `budget_s`).

    Safe to run from any number of processes at once (rows are claimed with SKIP LOCKED).
    """
    actor = _actor(rt)
    counts = {"delivered": 0, "retried": 0, "dead": 0, "suppressed": 0}
    end = time.monotonic() + budget_s
    for _ in range(limit):
        if time.monotonic() > end:
            break
        outcome = _one(rt, actor)
        if outcome is None:
            break
        counts[outcome] += 1
    return DeliveryReport(**counts)


def rows(
    rt: Runtime, actor: Actor, *, state: str | None = None, limit: int = 100
) -> list[OutboxRow]:
    """Recent outbox rows (admins; others see none)."""
    with rt.store.tx(actor.identity) as tx:
        found = tx.all("alert_outbox_list", {"state": state, "limit": limit})
    return [OutboxRow(**{**r, "last_error": recognised_in(r["last_error"])}) for r in found]


def delivery_counts(rt: Runtime) -> list[DeliveryCount]:
    """Deliveries by channel kind and outcome, for /metrics (read as the first admin).

    `delivered` and `failed` count attempts; `dead`, `suppressed` and `pending` count outbox
    rows in that state now. Counts only grow while history is kept, like a Prometheus counter.
    """
    try:
        with rt.store.tx(_actor(rt).identity) as tx:
            found = tx.all("alert_delivery_counts")
    except PetcareError as exc:
        log.warning("alert delivery counts: %s", exc.message)
        return []
    return [DeliveryCount(r["channel_kind"], r["outcome"], int(r["n"])) for r in found]
