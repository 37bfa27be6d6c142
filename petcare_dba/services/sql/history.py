"""Beside the path: the History page's and editor's storage (past runs, drafts, declined prompts).

`history` lists execucoes_scripts rows the actor may see (row level security: own rows, rows of
their projects, every row for admins); `save_draft`/`load_draft` keep the editor text per user
and connection so work survives logout and restarts; `decline` records that a confirmation
prompt was answered "no" (reliability Q4: both the prompt and the decision are audited). A
run's note (declined, rolled back, exported…) comes back sayable in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petcare_dba.errors import PetcareError
from petcare_dba.messages import recognised, say
from petcare_dba.services import connections, intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import plan, record, safety
from petcare_dba.services.sql.record import RunContext

# The notes the engine writes into a run's `message` (English only: the column keeps no key),
# read back for the History page to say in the user's language; specific before general.
NOTES = (
    "msg.run.declined",
    "msg.run.declined_bare",
    "msg.run.edit_cancelled",
    "msg.run.rolled_back_at",
    "msg.run.rolled_back",
    "msg.run.dry_run",
    "msg.run.exported",
    "msg.run.in_transaction",
    "msg.run.served",
    "msg.run.export_interrupted",
)


@dataclass(frozen=True)
class HistoryEntry:
    """One execucoes_scripts row as the History page lists it."""

    id: int
    started_at: datetime
    username: str
    connection: str | None
    outcome: str
    classification: str
    duration_ms: float | None
    rows_affected: int | None
    sqlstate: str | None
    message: str | None
    sql_text: str
    statement_index: int
    ai_initiated: bool
    project_id: int | None
    script_version_id: int | None


@dataclass(frozen=True)
class Draft:
    content: str
    updated_at: datetime


def decline(
    rt: Runtime, actor: Actor, connection_name: str, sql_text: str, reason: str = ""
) -> None:
    """Record that the user declined a confirmation prompt (reliability Q4: both audited).

    The outcome is 'cancelled' (the user chose not to run it), never 'refused', which is kept
    for what the rules forbid: History and the audit tell the two apart (issue 19).
    """
    conn_info = connections.get(rt, actor, connection_name)
    ctx = RunContext(rt, actor, conn_info.id, conn_info.name)
    found = plan.analyse(sql_text)[1] or safety.classify_script(sql_text)
    record.decided(
        ctx,
        found[0],
        "cancelled",
        text=sql_text,
        error=PetcareError(
            say("msg.run.declined", reason=reason) if reason else say("msg.run.declined_bare")
        ),
        detail={"declined": True},
    )


def history(
    rt: Runtime,
    actor: Actor,
    *,
    outcome: str | None = None,
    connection: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    limit: int = 200,
) -> list[HistoryEntry]:
    """Executions the actor may see (own, their projects'; admins all), newest first.

    Outcomes this runtime still has queued are written first: the history is exact.
    """
    rt.deferred.settle()
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all(
            "engine_history",
            {
                "outcome": outcome,
                "connection": connection,
                "username": username,
                "since": since,
                "until": until,
                "search": search or None,
                "limit": limit,
            },
        )
    return [
        HistoryEntry(
            **{
                **r,
                "duration_ms": float(r["duration_ms"]) if r["duration_ms"] is not None else None,
                "message": recognised(r["message"], NOTES, inner=True)
                if r["message"]
                else r["message"],
            }
        )
        for r in rows
    ]


def save_draft(rt: Runtime, actor: Actor, connection_name: str, content: str) -> None:
    """Autosave the editor text for (actor, connection)."""
    intake.check(content, rt.settings, what=say("msg.sql.what.draft"))
    conn_info = connections.get(rt, actor, connection_name)
    with rt.store.tx(actor.identity) as tx:
        tx.execute("engine_draft_save", {"connection_id": conn_info.id, "content": content})


def load_draft(rt: Runtime, actor: Actor, connection_name: str) -> Draft | None:
    """The saved editor text for (actor, connection), if any."""
    conn_info = connections.get(rt, actor, connection_name)
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("engine_draft_load", {"connection_id": conn_info.id})
    return None if row is None else Draft(row["content"], row["updated_at"])
