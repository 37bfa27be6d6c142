"""Scheduled work (issue 20): table backups with retention, project script runs, advisor runs.

The face hands on the schedule functions (`schedules.add`, `schedules.list_schedules`, …), the
worker's job (`run_due`), `run_now`, and the sub-area `cron` (expression and time-zone checks,
next due times).
"""

from __future__ import annotations

from petcare_dba.services.schedules import cron
from petcare_dba.services.schedules.runner import claim_due, execute, run_due, run_now
from petcare_dba.services.schedules.store import (
    KINDS,
    Run,
    Schedule,
    add,
    get,
    history,
    list_schedules,
    pause,
    remove,
    resume,
)

__all__ = [
    "KINDS",
    "Run",
    "Schedule",
    "add",
    "claim_due",
    "cron",
    "execute",
    "get",
    "history",
    "list_schedules",
    "pause",
    "remove",
    "resume",
    "run_due",
    "run_now",
]
