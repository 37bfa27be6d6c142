"""Alerts: rules over collected metrics, their events, and delivery through channels.

The face hands on the rule functions (`alerts.evaluate`, `alerts.add_rule`, …), the
`Notification` a channel receives, and the sub-areas `channels` and `outbound` (the destination
policy of every outbound delivery).
"""

from __future__ import annotations

from petcare_dba.services.alerts import channels, outbound
from petcare_dba.services.alerts.channels import Notification
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
    "Event",
    "Notification",
    "Rule",
    "acknowledge",
    "add_rule",
    "channels",
    "deliver",
    "evaluate",
    "history",
    "list_rules",
    "outbound",
    "update_rule",
]
