"""What each kind of schedule does when it runs, as the schedule's owner.

Each function takes the owner as an `Actor` built from the owner's current row (so a demoted
owner runs with the new role, and the services refuse what it no longer allows) and the
schedule row; it returns a small JSON-able summary (with `error` when a
script ran and failed) or raises the PetcareError that becomes the
run's recorded reason. Backups go through the backups service (retention with
`backups.retention.keep_latest`, so files and catalogue stay together); scripts through
`projects.runs.run_script` (the engine applies the role, limits and audit); advisor runs
through `advisor.run_and_store`, whose findings say which are new since the previous run.
"""

from __future__ import annotations

import json
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.messages import say
from petcare_dba.services import advisor, backups, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.schedules.store import script_allowed

SAMPLE_ROWS = 20  # rows of each statement's result kept in the run's history
CELL_MAX = 200
RESULT_MAX = 60_000  # characters of JSON (the column holds at most 64 kB)


def backup(rt: Runtime, owner: Actor, row: dict[str, Any]) -> dict[str, Any]:
    """Back the table up, then apply the schedule's retention."""
    entry = backups.backup(rt, owner, row["connection"], row["schema_name"], row["table_name"])
    if entry.status != "ok":
        raise PetcareError(
            say(
                "msg.schedules.backup_ended",
                id=entry.id,
                status=entry.status,
                error=entry.error or "",
            )
        )
    pruned: list[int] = []
    if row["keep_count"] or row["keep_days"]:
        pruned = backups.retention.keep_latest(
            rt,
            owner,
            row["connection"],
            row["schema_name"],
            row["table_name"],
            keep_count=row["keep_count"],
            keep_days=row["keep_days"],
        )
    return {
        "backup_id": entry.id,
        "rows": entry.row_count,
        "bytes": entry.byte_size,
        "pruned": pruned,
    }


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)[:CELL_MAX]


def script(rt: Runtime, owner: Actor, row: dict[str, Any]) -> dict[str, Any]:
    """Run the chosen version on the chosen connection; statements and sample rows kept."""
    chosen = projects.versions.version(
        rt, owner, row["project_id"], row["script_id"], row["script_version"]
    )
    conn = row["connection_info"]
    script_allowed(chosen.content, owner.role, conn.read_only, conn.name, row["confirmed"])
    done = projects.runs.run_script(
        rt,
        owner,
        row["project_id"],
        row["script_id"],
        version=row["script_version"],
        connection=row["connection"],
        confirmed=row["confirmed"],
    )
    statements = [
        {
            "index": r.statement_index,
            "command": r.command_tag,
            "rows": r.row_count,
            "columns": list(r.columns[:50]),
            "sample": [[_cell(v) for v in rec[:50]] for rec in r.rows[:SAMPLE_ROWS]],
            "truncated": r.truncated or len(r.rows) > SAMPLE_ROWS,
        }
        for r in done.result.results
    ]
    summary = {
        "version": done.version.version,
        "committed": done.result.committed,
        "elapsed_ms": round(done.result.elapsed_ms, 1),
        "statements": statements,
    }
    if len(json.dumps(summary, default=str)) > RESULT_MAX:
        for s in statements:
            s["sample"], s["truncated"] = [], True
    if done.result.error is not None:  # the run failed: kept with its results, then alerted
        summary["error"] = done.result.error.message[:1000]
    return summary


def advisor_run(rt: Runtime, owner: Actor, row: dict[str, Any]) -> dict[str, Any]:
    """Run and store the advisor; the new ERROR findings are what the alert is about."""
    result = advisor.run_and_store(rt, owner, row["connection"])
    new_errors = [f for f in result.findings if f.level == "ERROR" and f.status == "new"]
    return {
        "advisor_run_id": result.run_id,
        "findings": len(result.findings),
        "errors": result.count("ERROR"),
        "new_errors": [f"{f.name}: {f.object}"[:200] for f in new_errors[:50]],
        "new_error_count": len(new_errors),
    }
