"""Messages of alerts: rules, silences and maintenance windows, and the delivery channels
(webhook, Slack, Teams, Discord, PagerDuty, e-mail) an admin adds."""

from __future__ import annotations

TEMPLATES = {
    "msg.alerts.comparator": "comparator must be one of {choices}",
    "msg.alerts.severity": "severity must be warning or critical",
    "msg.alerts.negative_duration": "duration_s must not be negative",
    "msg.alerts.no_rule": "no alert rule named {name}",
    "msg.alerts.rule_shape": "comparator must be >, >=, < or <= and severity warning/critical",
    "msg.alerts.no_event": "no unacknowledged alert {id} that you may acknowledge",
    "msg.alerts.duration": "not a duration: {text}",
    "msg.alerts.duration.hint": "like 30m, 2h or 1d",
    "msg.alerts.reason": "a reason of 1 to 500 characters is required",
    "msg.alerts.no_connection": "no connection named {name}",
    "msg.alerts.silence_end": "a silence must end after it starts (and in the future)",
    "msg.alerts.no_silence": "no silence {id} that you may remove",
    "msg.alerts.zone": "unknown time zone {zone}",
    "msg.alerts.zone.hint": "like UTC or Europe/Lisbon",
    "msg.alerts.weekly_length": "a weekly window lasts 1 minute to 7 days",
    "msg.alerts.weekdays": "days are ISO weekdays: 1 (Monday) to 7 (Sunday)",
    "msg.alerts.window_end": "a one-off window needs an end after its start",
    "msg.alerts.no_window": "no maintenance window {id} that you may remove",
    "msg.alerts.channel_exists": "a channel named {name} already exists",
    "msg.alerts.channel_name": "channel name {name}: lowercase letters, digits, - _",
    "msg.alerts.secret": "the signing secret must be at least 16 printable characters",
    "msg.alerts.https": "a {kind} webhook URL must be https://… (one line)",
    "msg.alerts.host": "a {kind} webhook URL points at {hosts}",
    "msg.alerts.not_service": "not a {kind} incoming-webhook URL",
    "msg.alerts.service_kind": "kind must be slack, teams or discord",
    "msg.alerts.routing_key": "a PagerDuty routing key is 20-64 letters and digits",
    "msg.alerts.region": "the PagerDuty region is us or eu",
    "msg.alerts.address": "not a plain e-mail address: {address}",
    "msg.alerts.no_recipient": "not a plain e-mail address: (no recipient)",
    "msg.alerts.address.hint": "one address per recipient, like dba@example.org (no names, "
    "commas, line breaks)",
    "msg.alerts.smtp_host": "the SMTP host must be a host name or address",
    "msg.alerts.no_channel": "no alert channel named {name}",
    "msg.alerts.stored_addresses": "the channel's stored e-mail addresses are not plain addresses",
}
