"""The advisor: lints run against a target, stored runs and exclusions, index suggestions.

The face hands on the lint functions (`advisor.run`, `advisor.lints`, …) and `indexes`.
"""

from __future__ import annotations

from petcare_dba.services.advisor import (
    indexes,
)
from petcare_dba.services.advisor.checks import (
    LEVELS,
    RUN_ROLE,
    AdvisorRun,
    Finding,
    Lint,
    Stored,
    exclude,
    exclusions,
    history,
    include,
    lints,
    run,
    run_and_store,
    run_lints,
    stored,
    stored_findings,
    thresholds,
)

__all__ = [
    "LEVELS",
    "RUN_ROLE",
    "AdvisorRun",
    "Finding",
    "Lint",
    "Stored",
    "exclude",
    "exclusions",
    "history",
    "include",
    "indexes",
    "lints",
    "run",
    "run_and_store",
    "run_lints",
    "stored",
    "stored_findings",
    "thresholds",
]
