"""Alerts: rules over collected metrics, their events, and delivery through channels.

The face hands on the rule functions (`alerts.evaluate`, `alerts.add_rule`, …), the
`Notification` a channel receives, the delivery job (`deliver_due`, returning a
`DeliveryReport`; run it from a worker, or let the in-process `deliverer` thread run it),
`delivery_counts` for /metrics, and the sub-areas `channels`, `silences` (silences and
maintenance windows), `outbox`, `outbound` (the destination policy of every delivery) and
`formats` (what a channel receives; `formats.clean` makes outside text one safe line).
"""

from __future__ import annotations

from petcare_dba.services.alerts import channels, deliverer, formats, outbound, outbox, silences
from petcare_dba.services.alerts.formats import Notification
from petcare_dba.services.alerts.outbox import (
    DeliveryCount,
    DeliveryReport,
    deliver_due,
    delivery_counts,
)
from petcare_dba.services.alerts.rules import (
    SEVERITIES,
    Event,
    Rule,
    acknowledge,
    add_rule,
    deliver,
    evaluate,
    history,
    list_rules,
    update_rule,
)

__all__ = [
    "SEVERITIES",
    "DeliveryCount",
    "DeliveryReport",
    "Event",
    "Notification",
    "Rule",
    "acknowledge",
    "add_rule",
    "channels",
    "deliver",
    "deliver_due",
    "deliverer",
    "delivery_counts",
    "evaluate",
    "formats",
    "history",
    "list_rules",
    "outbound",
    "outbox",
    "silences",
    "update_rule",
]
