"""The safe SQL execution engine shared by the SQL editor, the CLI and the AI assistant.

`run` splits a script with PostgreSQL's parser, classifies every statement, decides per app role
and connection (Allow / Confirm / Reject, `services.sql_safety`), records an audit intent and an
execucoes_scripts row before each statement and the outcome after it, and executes through
`db.executor`: one statement per protocol message, timeouts set locally, a READ ONLY transaction
for viewers, read-only connections and the assistant, results capped by rows and bytes.
Refusals raise `Refused` (or `NeedsConfirmation`); execution errors come back in
`RunResult.error` next to the results of the statements that ran. `cancel` stops a run from
another thread. Execution is in `engine_exec`, history and drafts in `engine_history`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import executor
from petcare_dba.db.target.executor import CancelHandle, Limits
from petcare_dba.errors import PetcareError, Refused, Unavailable, ValidationError
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import slots
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import execute, record, safety
from petcare_dba.services.sql import plan as engine_plan
from petcare_dba.services.sql.execute import QueryResult, RunResult
from petcare_dba.services.sql.history import (
    Draft,
    HistoryEntry,
    decline,
    history,
    load_draft,
    save_draft,
)
from petcare_dba.services.sql.record import RunContext, outcome_of
from petcare_dba.services.sql.safety import Classification
from petcare_dba.settings import Settings

MODES = ("transaction", "statements")
AI_MAX_ROWS = 1000
AI_STATEMENT_TIMEOUT_MS = 10_000
_POOLS_KEY = "engine.pools"

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


def limits_for(
    settings: Settings, max_rows: int | None = None, *, ai: bool = False, role: str = "viewer"
) -> Limits:
    """The guards of one run from settings; the assistant gets at most 10 s and 1000 rows.

    The resource limits (temp_file_limit, work_mem ceiling) are the role's; the assistant
    always gets the viewer's.
    """
    rows = max_rows if max_rows is not None and max_rows > 0 else settings.max_rows
    timeout = settings.statement_timeout_ms
    if ai:
        rows = min(rows, AI_MAX_ROWS)
        timeout = AI_STATEMENT_TIMEOUT_MS if timeout <= 0 else min(timeout, AI_STATEMENT_TIMEOUT_MS)
        role = "viewer"
    return Limits(
        timeout,
        settings.lock_timeout_ms,
        settings.idle_in_transaction_timeout_ms,
        rows,
        settings.max_result_bytes,
        int(getattr(settings, f"temp_file_limit_mb_{role}", 0)) * 1024,
        int(getattr(settings, f"work_mem_max_mb_{role}", 0)) * 1024,
    )


def temp_file_limit_enforced(rt: Runtime, actor: Actor, connection_name: str) -> bool:
    """Whether the connection's login role may SET temp_file_limit (else the role limit is off).

    PostgreSQL lets only superusers, or roles granted `GRANT SET ON PARAMETER temp_file_limit`
    (15+), set it; health and `connection test` report a False here with that SQL as the fix.
    """
    info = connections.for_run(rt, actor, connection_name)
    pool = pool_for(rt, actor, connection_name, info.id, info.url)
    with pool.connection(target.application_name(actor.username, actor.session_id)) as lease:
        return executor.may_set_temp_file_limit(lease.conn)


def _pools(rt: Runtime) -> executor.Pools:
    pools = rt._extras.get(_POOLS_KEY)
    if pools is None:
        created = executor.Pools(slots.registry(rt))
        pools = rt._extras.setdefault(_POOLS_KEY, created)
        if pools is created:
            rt._closers.append(lambda: close(rt))
        else:
            created.close()
    assert isinstance(pools, executor.Pools)  # noqa: S101 - only this module writes the key
    return pools


def pool_for(
    rt: Runtime, actor: Actor, connection_name: str, connection_id: int, url: str | None = None
) -> executor.TargetPool:
    """The actor's pool for a stored connection (shared with explain, export, transactions)."""
    settings = rt.settings
    return _pools(rt).get(
        connection_id,
        actor.user_id,
        url if url is not None else connections.resolve_url(rt, actor, connection_name),
        max_size=settings.max_connections_per_user,
        wait_timeout=settings.pool_timeout_s,
        connect_timeout=settings.connect_timeout_s,
        keepalives={
            "keepalives_idle": settings.target_keepalives_idle_s,
            "keepalives_interval": settings.target_keepalives_interval_s,
            "keepalives_count": settings.target_keepalives_count,
        },
    )


def close(rt: Runtime) -> None:
    """Close every target connection the engine holds for this runtime."""
    pools = rt._extras.pop(_POOLS_KEY, None)
    if isinstance(pools, executor.Pools):
        pools.close()


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
    """Classify, decide, audit and execute a script on a stored connection.

    `rollback=True` runs the script in one transaction that is rolled back at the end (EXPLAIN
    ANALYZE of a writing statement); it still needs the same decision as a real run.
    """
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if rollback and mode != "transaction":
        raise ValidationError("a rolled-back run needs mode='transaction'")
    started = time.perf_counter()
    # One metadata round trip for visibility (RLS), flags and the sealed conninfo.
    conn_info = connections.for_run(rt, actor, connection_name)
    ctx = RunContext(
        rt,
        actor,
        conn_info.id,
        conn_info.name,
        ai_initiated,
        project_id,
        script_version_id,
        {"mode": mode},
    )
    ctx = record.admit(ctx, sql_text)
    # The assistant always takes the viewer path, whatever the user's role (reliability AI1).
    role = "viewer" if ai_initiated else actor.role
    read_only_conn = conn_info.read_only or ai_initiated
    read_only_path = role == "viewer" or read_only_conn
    statements, found = engine_plan.analyse(sql_text)
    if not found:
        raise ValidationError("there is no SQL statement to run")
    _check_syntax(ctx, sql_text, found, role, confirmed)
    # Refuse early, before any connection: volatility lookups only make decisions stricter.
    _decide(ctx, sql_text, found, role, read_only_conn, confirmed, final=False)
    try:
        plan = engine_plan.plan(statements, found, mode=mode, read_only_path=read_only_path)
    except PetcareError as exc:
        record.decided(ctx, found[0], "refused", text=sql_text, error=exc)
        raise
    limits = limits_for(rt.settings, max_rows, ai=ai_initiated, role=actor.role)
    url = _credential(ctx, conn_info, sql_text, found[0], read_only_path, ai_initiated)
    pool = pool_for(rt, actor, connection_name, conn_info.id, url)
    app_name = target.application_name(actor.username, actor.session_id, ai=ai_initiated)
    try:
        with pool.connection(app_name) as lease:
            resolved = engine_plan.resolve(lease.conn, sql_text, statements, found)
            if resolved is not None:
                statements, found = resolved
                _decide(ctx, sql_text, found, role, read_only_conn, confirmed, final=True)
                plan = engine_plan.plan(statements, found, mode=mode, read_only_path=read_only_path)
            else:
                _decide(ctx, sql_text, found, role, read_only_conn, confirmed, final=True)
            lease.discard = plan.discard_connection
            detail: dict[str, Any] = {"confirmed": confirmed, "read_only": plan.read_only}
            if limits.temp_file_limit_kb > 0 and not executor.may_set_temp_file_limit(lease.conn):
                # Visible in the audit row: the role's temp-file limit could not be applied.
                detail["temp_file_limit"] = "not permitted for the login role"
            if rollback:
                detail["rolled_back"] = True
            if mode == "transaction":
                outcome = execute.in_transaction(
                    ctx, lease, plan, limits, handle, detail, rollback=rollback
                )
            else:
                outcome = execute.statement_by_statement(ctx, lease, plan, limits, handle, detail)
    except (Refused, ValidationError, record.IntentNotRecorded):
        raise  # recorded where decided, or the audit log itself is down
    except PetcareError as exc:
        # Nothing ran (busy, no connection, BEGIN failed), but the attempt is recorded.
        with contextlib.suppress(Unavailable):
            record.decided(ctx, found[0], outcome_of(exc), text=sql_text, error=exc)
        raise
    results, committed, error, error_index, warnings = outcome
    if committed and any(c.kind == "ddl" for c in found):
        explorer.invalidate(connection_name)  # the explorer's catalog snapshot is now stale
    return RunResult(
        tuple(results),
        tuple(found),
        mode,
        plan.read_only,
        committed,
        error,
        error_index,
        tuple(warnings),
        round((time.perf_counter() - started) * 1000, 3),
    )


def reader(role: str, ai_initiated: bool) -> str:
    """Who takes the read path, for refusal messages."""
    if ai_initiated:
        return "the assistant"
    return "viewers" if role == "viewer" else "read-only connections"


def _credential(
    ctx: RunContext,
    info: connections.Target,
    sql_text: str,
    first: Classification,
    read_only_path: bool,
    ai_initiated: bool,
) -> str:
    """The conninfo of this run; the read path runs only as a least-privilege role (Q3).

    The credential path used (`primary` or `read_only`) goes into every audit row of the run.
    """
    who = reader(ctx.actor.role, ai_initiated)
    try:
        url, path = connections.credential_for(
            ctx.rt, ctx.actor, info, read_path=read_only_path, who=who
        )
    except PetcareError as exc:
        ctx.detail["credential"] = connections.READ_ONLY if info.read_url else connections.PRIMARY
        with contextlib.suppress(Unavailable):
            outcome = "refused" if isinstance(exc, Refused) else outcome_of(exc)
            record.decided(ctx, first, outcome, text=sql_text, error=exc)
        raise
    ctx.detail["credential"] = path
    return url


def _check_syntax(
    ctx: RunContext, sql_text: str, found: list[Classification], role: str, confirmed: bool
) -> None:
    """Report a syntax error with line and column before anything reaches the server.

    A dba or admin may still confirm text the parser rejects (PostgreSQL may accept syntax
    newer than pglast's); everyone else gets the syntax error.
    """
    if found[0].parse_error is None:
        return
    error = engine_plan.syntax_error(sql_text)
    if error is None:  # the classifier itself failed: fail closed, as for a syntax error
        error = ValidationError(found[0].parse_error)
    if confirmed and role in ("dba", "admin"):
        return
    if role in ("dba", "admin"):
        error.hint = (
            f"{error.hint or ''} If PostgreSQL accepts this syntax, run it again "
            "with confirmation (it is then treated as destructive)."
        ).strip()
    record.decided(ctx, found[0], "error", text=sql_text, error=error)
    raise error


def _decide(
    ctx: RunContext,
    sql_text: str,
    found: list[Classification],
    role: str,
    read_only_conn: bool,
    confirmed: bool,
    *,
    final: bool,
) -> None:
    if not final:  # before the pg_proc lookup, only what needs no connection is decided
        found = engine_plan.decidable_early(found)
        if not found:
            return
    decision = safety.decide_script(
        found, role, read_only_conn, connection_name=ctx.connection_name
    )
    refusal = engine_plan.refusal(decision, confirmed)
    if refusal is None:
        return
    if not final and not isinstance(decision, safety.Reject):
        return  # a Confirm may still become a Reject once volatility is known
    offending = _first_offending(found, role, read_only_conn)
    if isinstance(decision, safety.Reject):
        record.decided(
            ctx, offending, "refused", text=sql_text, error=refusal, detail={"rule": decision.rule}
        )
    else:
        assert isinstance(decision, safety.Confirm)  # noqa: S101 - refusal() returned one
        record.decided(
            ctx,
            offending,
            "confirm",
            text=sql_text,
            error=refusal,
            detail={"reason": decision.reason, "objects": list(decision.objects)},
        )
    raise refusal


def _first_offending(
    found: list[Classification], role: str, read_only_conn: bool
) -> Classification:
    for c in found:
        if not isinstance(safety.decide(c, role, read_only_conn), safety.Allow):
            return c
    return found[0]
