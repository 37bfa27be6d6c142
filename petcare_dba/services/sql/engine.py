"""The driver of the safe SQL engine shared by the SQL editor, the CLI and the AI assistant.

`run` hands a script down one way, each stage's result to the next. Its front half is `front`,
the one every entry point takes (export, explicit transactions and verdict too): `intake` checks
the text, `plan` splits it with PostgreSQL's parser, classifies every statement and decides per
app role and connection (Allow / Confirm / Reject) before any connection and again after the
pg_proc lookup on the lease. Then, when the opt-in result cache may answer (`cached`), a hit is
served and audited; otherwise `execute` runs the plan through `db.target` (one statement per
protocol message, timeouts set locally, a READ ONLY transaction for viewers, read-only
connections and the assistant, results capped by rows and bytes) and writes each statement's
audit intent, execucoes_scripts row and outcome through `record`. No stage calls back into an
earlier one; refusals go straight to `record` and raise `Refused` (or `NeedsConfirmation`);
execution errors come back in `RunResult.error` next to the results of the statements that ran.
`cancel` stops a run from another thread and `drain` every run at shutdown; `release_session`
closes the idle connections of a session whose tab is gone; history and drafts are in `history`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import CancelHandle, executor
from petcare_dba.errors import PetcareError, Refused, Unavailable, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.cache import results
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import cached, execute, front, record, safety
from petcare_dba.services.sql.execute import QueryResult, RunResult
from petcare_dba.services.sql.history import (
    Draft,
    HistoryEntry,
    decline,
    history,
    load_draft,
    save_draft,
)
from petcare_dba.services.sql.record import outcome_of
from petcare_dba.services.sql.safety import Classification

MODES = ("transaction", "statements")
# Re-exported: callers name them through the engine (`engine.limits_for(...)`).
AI_MAX_ROWS = front.AI_MAX_ROWS
AI_STATEMENT_TIMEOUT_MS = front.AI_STATEMENT_TIMEOUT_MS
limits_for = front.limits_for
pool_for = front.pool_for

__all__ = [
    "CancelHandle",
    "Classification",
    "Draft",
    "HistoryEntry",
    "QueryResult",
    "RunResult",
    "cancel",
    "classify",
    "close",
    "decline",
    "drain",
    "history",
    "load_draft",
    "new_handle",
    "run",
    "save_draft",
]


def classify(sql_text: str) -> list[Classification]:
    """Classify a script without running anything (unparseable text counts as destructive)."""
    return safety.classify_script(sql_text)


def new_handle() -> CancelHandle:
    """A handle to pass to `run(handle=...)` so that another thread can `cancel` it."""
    return CancelHandle()


def cancel(handle: CancelHandle) -> None:
    """Cancel the statement a run is executing (57014); later statements do not start."""
    handle.cancel()


def temp_file_limit_enforced(rt: Runtime, actor: Actor, connection_name: str) -> bool:
    """Whether the connection's login role may SET temp_file_limit (else the role limit is off).

    PostgreSQL lets only superusers, or roles granted `GRANT SET ON PARAMETER temp_file_limit`
    (15+), set it; health and `connection test` report a False here with that SQL as the fix.
    """
    info, _ = front.context(rt, actor, connection_name, detail={})
    with front.open_lease(rt, actor, connection_name, info.id, info.url) as lease:
        return executor.may_set_temp_file_limit(lease.conn)


def close(rt: Runtime) -> None:
    """Close every target connection the engine holds for this runtime."""
    rt.target_pools.close()


def release_session(rt: Runtime, actor: Actor) -> int:
    """Close the idle target connections kept for the actor's session (its tab is gone).

    Both names of the session (`petcare-dba/<user>/<session>` and its `…/ai/…` twin) on every
    stored connection; connections checked out right now are left to their run. How many closed.
    """
    names = {
        target.application_name(actor.username, actor.session_id, ai=ai) for ai in (False, True)
    }
    return rt.target_pools.release(actor.user_id, names)


def sweep(rt: Runtime) -> int:
    """Close idle target connections nobody took back within the pool's idle lifetime."""
    return rt.target_pools.sweep()


def drain(rt: Runtime, timeout: float) -> int:
    """At shutdown: start no new run, cancel the running ones (each audited 'cancelled').

    Waits up to `timeout` for every run to record its outcome; how many were running.
    """
    return rt.target_pools.drain(timeout)


def run(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    *,
    mode: str = "transaction",
    confirmed: bool = False,
    max_rows: int | None = None,
    ai_initiated: bool = False,
    script_version_id: int | None = None,
    project_id: int | None = None,
    handle: CancelHandle | None = None,
    rollback: bool = False,
) -> RunResult:
    """Check, plan (classify, decide), execute and record a script on a stored connection.

    `rollback=True` runs the script in one transaction that is rolled back at the end (EXPLAIN
    ANALYZE of a writing statement); it still needs the same decision as a real run. When the
    first intent finds the remembered connection lookup stale (changed, unshared, revoked),
    nothing has run: the lookups are forgotten and the run starts once more from a fresh one.
    """
    args = (rt, actor, connection_name, sql_text)
    options: dict[str, Any] = {
        "mode": mode,
        "confirmed": confirmed,
        "max_rows": max_rows,
        "ai_initiated": ai_initiated,
        "script_version_id": script_version_id,
        "project_id": project_id,
        "handle": handle,
        "rollback": rollback,
    }
    try:
        return _run(*args, **options)
    except record.LookupChanged:
        connections.forget_lookups(rt)
        return _run(*args, **options)


def _run(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    *,
    mode: str,
    confirmed: bool,
    max_rows: int | None,
    ai_initiated: bool,
    script_version_id: int | None,
    project_id: int | None,
    handle: CancelHandle | None,
    rollback: bool,
) -> RunResult:
    if mode not in MODES:
        raise ValidationError(say("msg.sql.mode", choices=", ".join(MODES), mode=repr(mode)))
    if rollback and mode != "transaction":
        raise ValidationError(say("msg.sql.rollback_mode"))
    started = time.perf_counter()
    # The one front half (front): lookup, text check, early decision, credential, lease, final.
    conn_info, ctx = front.context(
        rt,
        actor,
        connection_name,
        detail={"mode": mode},
        ai_initiated=ai_initiated,
        project_id=project_id,
        script_version_id=script_version_id,
        stamped=True,
    )
    ctx = front.take(ctx, sql_text)
    ask = front.ask_for(actor, conn_info, confirmed=confirmed, mode=mode, ai_initiated=ai_initiated)
    # Refuse early, before any connection: volatility lookups only make decisions stricter.
    analysis = front.early(ctx, sql_text, ask)
    first = analysis.found[0]
    limits = limits_for(rt.settings, max_rows, ai=ai_initiated, role=actor.role)
    who = front.reader(actor.role, ai_initiated)
    url = front.credential(ctx, conn_info, sql_text, first, ask.read_only_path, who)
    try:
        with front.open_lease(
            rt, actor, connection_name, conn_info.id, url, ai=ai_initiated
        ) as lease:
            analysis = front.final(ctx, lease.conn, sql_text, analysis, ask)
            first, chosen = analysis.found[0], analysis.plan
            lease.discard = chosen.discard_connection
            detail: dict[str, Any] = {"confirmed": confirmed, "read_only": chosen.read_only}
            if limits.temp_file_limit_kb > 0 and not executor.may_set_temp_file_limit(lease.conn):
                # Visible in the audit row: the role's temp-file limit could not be applied.
                detail["temp_file_limit"] = "not permitted for the login role"
            if rollback:
                detail["rolled_back"] = True
            # The opt-in result cache, for one plain read once the plan is final (cached.py).
            step = cached.usable(chosen, rollback) if results.enabled(rt.settings) else None
            lookup: QueryResult | cached.Lookup | None = None
            if step is not None:
                lookup = cached.look(
                    ctx, lease, step, limits, url=url, read_only=chosen.read_only, detail=detail
                )
            outcome: execute.Outcome
            if isinstance(lookup, QueryResult):
                outcome = [lookup], True, None, None, []
            elif mode == "transaction":
                outcome = execute.in_transaction(
                    ctx, lease, chosen, limits, handle, detail, rollback=rollback
                )
            else:
                outcome = execute.statement_by_statement(ctx, lease, chosen, limits, handle, detail)
    except (Refused, ValidationError, record.IntentNotRecorded, record.LookupChanged):
        raise  # recorded where decided, or the audit log itself is down
    except PetcareError as exc:
        # Nothing ran (busy, no connection, BEGIN failed), but the attempt is recorded.
        with contextlib.suppress(Unavailable):
            record.decided(ctx, first, outcome_of(exc), text=sql_text, error=exc)
        raise
    ran, committed, error, error_index, warnings = outcome
    if isinstance(lookup, cached.Lookup) and error is None and len(ran) == 1:
        cached.keep(ctx, lookup, ran[0])
    found = analysis.found
    if committed and any(c.kind == "ddl" for c in found):
        explorer.invalidate(rt, conn_info.id)  # every instance drops its cached catalog
    return RunResult(
        tuple(ran),
        tuple(found),
        mode,
        chosen.read_only,
        committed,
        error,
        error_index,
        tuple(warnings),
        round((time.perf_counter() - started) * 1000, 3),
        from_cache=isinstance(lookup, QueryResult),
    )
