"""Messages of monitoring and the advisor: cancelling or terminating a session, excluded
findings, lint thresholds, index suggestions (the what-if plan) and creating one. Statistics' own
text stays as it was written."""

from __future__ import annotations

TEMPLATES = {
    # Written by jobs.sql (jobs_release) word for word.
    "msg.monitoring.job_interrupted": "interrupted: the instance stopped",
    "msg.monitoring.kill_disabled": "cancelling and terminating sessions is disabled "
    "(monitoring_allow_kill)",
    "msg.monitoring.no_session": "no session with pid {pid} in the database of {name}",
    "msg.monitoring.confirm_cancel": "cancel backend {pid} ({user}, {state})?",
    "msg.monitoring.confirm_terminate": "terminate backend {pid} ({user}, {state})?",
    "msg.monitoring.cancel_reason": "stops a running statement",
    "msg.monitoring.terminate_reason": "ends another user's work",
    "msg.advisor.not_excluded": "{key} is not excluded on {name}",
    "msg.advisor.not_threshold": "{name} is not an advisor threshold",
    "msg.advisor.not_threshold.hint": "one of: {names}",
    "msg.advisor.not_planned": "not planned: planning it could run code that is not PostgreSQL's "
    "own ({reasons})",
    "msg.advisor.not_planned.hint": "statement statistics are written by any database user "
    "(reliability U2)",
    "msg.advisor.needs_pgss": "index suggestions need pg_stat_statements in this database",
    "msg.advisor.needs_pgss.hint": "CREATE EXTENSION pg_stat_statements (and "
    "shared_preload_libraries)",
    "msg.advisor.whatif_one": "a what-if plans exactly one statement",
    "msg.advisor.whatif_unparsed": "the statement does not parse",
    "msg.advisor.whatif_wrapper": "the what-if wrapper is not exactly the checked statement",
    "msg.advisor.only_suggested": "only a suggested CREATE INDEX CONCURRENTLY statement can run "
    "here",
    "msg.advisor.confirm_index": "create this index on {name}?",
    "msg.advisor.confirm_index.reason": "builds an index (CONCURRENTLY: writes continue)",
}
