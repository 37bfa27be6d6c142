"""The registry of message templates: every domain's `TEMPLATES` joined, each key once.

Keys are `msg.<domain>.<name>`; a hint's key ends in `.hint` by habit, nothing depends on it.
"""

from __future__ import annotations

from petcare_dba.messages import (
    access,
    alerts,
    archives,
    assistant,
    backups,
    common,
    connections,
    editor,
    history,
    monitoring,
    outbound,
    projects,
    schedules,
    security,
    settings,
    sql,
    sql_effects,
    target,
)

_PARTS: tuple[dict[str, str], ...] = (
    common.TEMPLATES,
    settings.TEMPLATES,
    access.TEMPLATES,
    sql.TEMPLATES,
    sql_effects.TEMPLATES,
    schedules.TEMPLATES,
    backups.TEMPLATES,
    connections.TEMPLATES,
    projects.TEMPLATES,
    monitoring.TEMPLATES,
    editor.TEMPLATES,
    alerts.TEMPLATES,
    security.TEMPLATES,
    assistant.TEMPLATES,
    outbound.TEMPLATES,
    archives.TEMPLATES,
    target.TEMPLATES,
    history.TEMPLATES,
)

MESSAGES: dict[str, str] = {}
for _part in _PARTS:
    for _key, _text in _part.items():
        if _key in MESSAGES:
            raise ValueError(f"message {_key!r} is defined twice")
        MESSAGES[_key] = _text
