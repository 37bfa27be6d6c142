"""Messages of schedules: the cron expression and time zone, the form's fields, who may change
or run one, a script the owner's role may not run unattended, and a scheduled backup that did
not end ok."""

from __future__ import annotations

TEMPLATES = {
    "msg.schedules.zone": "unknown time zone {zone}",
    "msg.schedules.zone.hint": "an IANA zone such as UTC, America/Sao_Paulo or Europe/Berlin",
    "msg.schedules.cron_empty": "the cron expression is empty",
    "msg.schedules.cron_empty.hint": "e.g. '0 3 * * *' (03:00)",
    "msg.schedules.cron_long": "the cron expression is longer than {n} characters",
    "msg.schedules.cron_shape": "not a cron expression: {text}",
    "msg.schedules.cron_shape.hint": "five fields: minute hour day-of-month month day-of-week, "
    "e.g. '30 2 * * 1-5'",
    "msg.schedules.cron_invalid": "not a valid cron expression {text}: {problem}",
    "msg.schedules.name": "a schedule name is 1 to {n} printable characters",
    "msg.schedules.name.hint": "e.g. nightly-orders",
    "msg.schedules.bounded": "{what} must be between 1 and {top}; got {value}",
    "msg.schedules.keep_count": "keep count",
    "msg.schedules.keep_days": "keep days",
    "msg.schedules.role_refused": "the {role} role may not run this script: {message}",
    "msg.schedules.needs_confirmation": "this script needs a confirmation to run: {reason}",
    "msg.schedules.needs_confirmation.hint": "schedule it with confirmed (--confirm) to run it "
    "unattended",
    "msg.schedules.kind": "kind must be one of {choices}; got {kind}",
    "msg.schedules.backup_table": "a backup schedule needs --schema and --table (1-63 chars)",
    "msg.schedules.script_needs": "a script schedule needs a project and a script",
    "msg.schedules.ambiguous": "several schedules are named {name}: give the id",
    "msg.schedules.not_found": "no schedule {name} (or it is not yours to see)",
    "msg.schedules.owner_change": "only the owner or an admin may change {name}",
    "msg.schedules.owner_run": "only the owner or an admin may run {name} now",
    "msg.schedules.gone": "schedule {id} is gone",
    "msg.schedules.owner_disabled": "the schedule's owner {owner} is disabled",
    "msg.schedules.backup_ended": "backup {id} ended {status}: {error}",
}
