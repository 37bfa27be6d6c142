"""Monitoring: the collector, per-interval deltas, alerts and their channels, health, views.

The face hands on the drill-down views as functions (`monitoring.sessions`, …) and the sub-areas
as modules (`collector`, `health`, `jobs`: the background jobs of `petcare-dba worker` and `up`;
`regressions`: query-regression alerts and their listing).
"""

from __future__ import annotations

from petcare_dba.services.monitoring import collector, health, jobs, regressions
from petcare_dba.services.monitoring.overview import Overview, glance, overview
from petcare_dba.services.monitoring.views import (
    AREAS,
    Session,
    StatementStat,
    Verdict,
    blocking_tree,
    connection_id,
    freshness,
    judge,
    latest,
    maintenance,
    series,
    sessions,
    signal,
    space,
    statement_series,
    top_statements,
    verdicts,
)

__all__ = [
    "AREAS",
    "Overview",
    "Session",
    "StatementStat",
    "Verdict",
    "blocking_tree",
    "collector",
    "connection_id",
    "freshness",
    "glance",
    "health",
    "jobs",
    "judge",
    "latest",
    "maintenance",
    "overview",
    "regressions",
    "series",
    "sessions",
    "signal",
    "space",
    "statement_series",
    "top_statements",
    "verdicts",
]
