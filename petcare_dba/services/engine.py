"""The safe SQL execution engine shared by the SQL editor, the CLI and the AI assistant.

`run` splits a script with PostgreSQL's parser, classifies every statement, decides per app role
and connection (Allow / Confirm / Reject, `services.sql_safety`), records an audit intent and an
execucoes_scripts row before each statement and the outcome after it, and executes through
`db.executor`: one statement per protocol message, timeouts set locally, a READ ONLY transaction
for viewers, read-only connections and the assistant, results capped by rows and bytes.
Refusals raise `Refused` (or `NeedsConfirmation`); execution errors come back in
`RunResult.error` next to the results of the statements that ran. `cancel` stops a run from
another thread. History and editor drafts live here too.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.db import executor, target
from petcare_dba.db.executor import CancelHandle, Lease, Limits
from petcare_dba.errors import PetcareError, Refused, Unavailable, ValidationError
from petcare_dba.services import connections, engine_log, engine_plan, sql_safety
from petcare_dba.services.actor import Actor
from petcare_dba.services.engine_log import RunContext, outcome_of
from petcare_dba.services.engine_plan import Plan, Step
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql_safety import Classification
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


@dataclass(frozen=True)
class QueryResult:
    """The result of one statement (rows capped at max_rows / max_result_bytes)."""

    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_count: int | None
    truncated: bool
    truncated_reason: str | None
    elapsed_ms: float
    statement_index: int
    command_tag: str


@dataclass(frozen=True)
class RunResult:
    """What `run` did: results of the statements that ran and, if one failed, its error.

    In mode 'transaction' an error means nothing was committed (`committed` is False) even
    though earlier statements have results; in mode 'statements' each result was committed.
    """

    results: tuple[QueryResult, ...]
    classifications: tuple[Classification, ...]
    mode: str
    read_only: bool
    committed: bool
    error: PetcareError | None = None
    error_index: int | None = None
    warnings: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> RunResult:
        """Raise the statement's error, if any; return self otherwise."""
        if self.error is not None:
            raise self.error
        return self


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


def classify(sql_text: str) -> list[Classification]:
    """Classify a script without running anything (unparseable text counts as destructive)."""
    return sql_safety.classify_script(sql_text)


def new_handle() -> CancelHandle:
    """A handle to pass to `run(handle=...)` so that another thread can `cancel` it."""
    return CancelHandle()


def cancel(handle: CancelHandle) -> None:
    """Cancel the statement a run is executing (57014); later statements do not start."""
    handle.cancel()


def limits_for(settings: Settings, max_rows: int | None = None, *, ai: bool = False) -> Limits:
    """The guards of one run from settings; the assistant gets at most 10 s and 1000 rows."""
    rows = max_rows if max_rows is not None and max_rows > 0 else int(settings.max_rows)
    timeout = int(settings.statement_timeout_ms)
    if ai:
        rows = min(rows, AI_MAX_ROWS)
        timeout = AI_STATEMENT_TIMEOUT_MS if timeout <= 0 else min(timeout, AI_STATEMENT_TIMEOUT_MS)
    return Limits(
        timeout,
        int(settings.lock_timeout_ms),
        int(settings.idle_in_transaction_timeout_ms),
        rows,
        int(settings.max_result_bytes),
    )


def _pools(rt: Runtime) -> executor.Pools:
    pools = rt._extras.get(_POOLS_KEY)
    if pools is None:
        pools = rt._extras.setdefault(_POOLS_KEY, executor.Pools())
    assert isinstance(pools, executor.Pools)  # noqa: S101 - only this module writes the key
    return pools


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
) -> RunResult:
    """Classify, decide, audit and execute a script on a stored connection."""
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    started = time.perf_counter()
    conn_info = connections.get(rt, actor, connection_name)
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
        engine_log.decided(ctx, found[0], "refused", text=sql_text, error=exc)
        raise
    limits = limits_for(rt.settings, max_rows, ai=ai_initiated)
    url = connections.resolve_url(rt, actor, connection_name)
    pool = _pools(rt).get(
        conn_info.id,
        actor.user_id,
        url,
        max_size=int(rt.settings.max_connections_per_user),
        wait_timeout=float(rt.settings.pool_timeout_s),
        connect_timeout=int(rt.settings.connect_timeout_s),
    )
    app_name = target.application_name(actor.username, actor.session_id, ai=ai_initiated)
    try:
        with pool.connection(app_name) as lease:
            names = engine_plan.unknown_functions(statements, found)
            if names:
                volatility = executor.function_volatility(lease.conn, names)
                statements, found = engine_plan.analyse(sql_text, volatility)
                _decide(ctx, sql_text, found, role, read_only_conn, confirmed, final=True)
                plan = engine_plan.plan(statements, found, mode=mode, read_only_path=read_only_path)
            else:
                _decide(ctx, sql_text, found, role, read_only_conn, confirmed, final=True)
            lease.discard = plan.discard_connection
            detail = {"confirmed": confirmed, "read_only": plan.read_only}
            if mode == "transaction":
                outcome = _run_transaction(ctx, lease, plan, limits, handle, detail)
            else:
                outcome = _run_statements(ctx, lease, plan, limits, handle, detail)
    except (Refused, ValidationError, engine_log.IntentNotRecorded):
        raise  # recorded where decided, or the audit log itself is down
    except PetcareError as exc:
        # Nothing ran (busy, no connection, BEGIN failed), but the attempt is recorded.
        with contextlib.suppress(Unavailable):
            engine_log.decided(ctx, found[0], outcome_of(exc), text=sql_text, error=exc)
        raise
    results, committed, error, error_index, warnings = outcome
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
    engine_log.decided(ctx, found[0], "error", text=sql_text, error=error)
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
    decision = sql_safety.decide_script(
        found, role, read_only_conn, connection_name=ctx.connection_name
    )
    refusal = engine_plan.refusal(decision, confirmed)
    if refusal is None:
        return
    if not final and not isinstance(decision, sql_safety.Reject):
        return  # a Confirm may still become a Reject once volatility is known
    offending = _first_offending(found, role, read_only_conn)
    if isinstance(decision, sql_safety.Reject):
        engine_log.decided(
            ctx, offending, "refused", text=sql_text, error=refusal, detail={"rule": decision.rule}
        )
    else:
        assert isinstance(decision, sql_safety.Confirm)  # noqa: S101 - refusal() returned one
        engine_log.decided(
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
        if not isinstance(sql_safety.decide(c, role, read_only_conn), sql_safety.Allow):
            return c
    return found[0]


_Outcome = tuple[list[QueryResult], bool, PetcareError | None, int | None, list[str]]


def _result(step: Step, fetched: executor.Fetched) -> QueryResult:
    return QueryResult(
        fetched.columns,
        fetched.column_types,
        fetched.rows,
        fetched.row_count,
        fetched.truncated,
        fetched.truncated_reason,
        fetched.elapsed_ms,
        step.index,
        fetched.command_tag,
    )


def _execute(
    lease: Lease, step: Step, limits: Limits, handle: CancelHandle | None
) -> executor.Fetched:
    return executor.execute(lease.conn, step.text, limits, method=step.method, handle=handle)


def _run_transaction(
    ctx: RunContext,
    lease: Lease,
    plan: Plan,
    limits: Limits,
    handle: CancelHandle | None,
    detail: dict[str, Any],
) -> _Outcome:
    """All statements in one transaction: all or nothing; outcomes are written after it ends."""
    if len(plan.steps) == 1 and plan.steps[0].autocommit:
        return _run_statements(ctx, lease, plan, limits, handle, detail)
    done: list[tuple[engine_log.Pending, QueryResult]] = []
    failure: tuple[engine_log.Pending, PetcareError] | None = None
    warnings: list[str] = []
    try:
        with executor.transaction(lease.conn, limits, read_only=plan.read_only):
            for step in plan.steps:
                pending = engine_log.begin(ctx, step.classification, detail)
                try:
                    fetched = _execute(lease, step, limits, handle)
                except PetcareError as exc:
                    failure = (pending, exc)
                    raise
                done.append((pending, _result(step, fetched)))
    except PetcareError as exc:
        if failure is None and done and not isinstance(exc, engine_log.IntentNotRecorded):
            failure = (done.pop()[0], exc)  # COMMIT failed: it belongs to the last statement
        if failure is None:  # BEGIN or an intent failed; the transaction was rolled back
            for pending, _ in done:
                _warn(
                    warnings,
                    engine_log.finish(
                        ctx, pending, error=exc, message=f"rolled back: {exc.message}"
                    ),
                )
            raise
        pending, error = failure
        index = pending.classification.index
        for ok_pending, _ in done:
            _warn(
                warnings,
                engine_log.finish(
                    ctx,
                    ok_pending,
                    error=error,
                    message=f"rolled back: statement {index + 1} failed",
                ),
            )
        _warn(warnings, engine_log.finish(ctx, pending, error=error))
        return [r for _, r in done], False, error, index, warnings
    for pending, result in done:
        _warn(
            warnings,
            engine_log.finish(ctx, pending, rows=result.row_count, duration_ms=result.elapsed_ms),
        )
    return [r for _, r in done], True, None, None, warnings


def _run_statements(
    ctx: RunContext,
    lease: Lease,
    plan: Plan,
    limits: Limits,
    handle: CancelHandle | None,
    detail: dict[str, Any],
) -> _Outcome:
    """Each statement in its own transaction (or none, for VACUUM and the like); stop at the
    first failure."""
    results: list[QueryResult] = []
    warnings: list[str] = []
    for step in plan.steps:
        pending = engine_log.begin(ctx, step.classification, detail)
        read_only = plan.read_only or step.classification.read_only
        try:
            if step.autocommit:
                executor.set_session_limits(lease.conn, limits)
                fetched = _execute(lease, step, limits, handle)
            else:
                with executor.transaction(lease.conn, limits, read_only=read_only):
                    fetched = _execute(lease, step, limits, handle)
        except PetcareError as exc:
            _warn(warnings, engine_log.finish(ctx, pending, error=exc))
            return results, bool(results), exc, step.index, warnings
        result = _result(step, fetched)
        results.append(result)
        _warn(
            warnings,
            engine_log.finish(ctx, pending, rows=result.row_count, duration_ms=result.elapsed_ms),
        )
    return results, True, None, None, warnings


def _warn(warnings: list[str], warning: str | None) -> None:
    if warning:
        warnings.append(warning)


def decline(
    rt: Runtime, actor: Actor, connection_name: str, sql_text: str, reason: str = ""
) -> None:
    """Record that the user declined a confirmation prompt (reliability Q4: both audited)."""
    conn_info = connections.get(rt, actor, connection_name)
    ctx = RunContext(rt, actor, conn_info.id, conn_info.name)
    found = engine_plan.analyse(sql_text)[1] or sql_safety.classify_script(sql_text)
    engine_log.decided(
        ctx,
        found[0],
        "refused",
        text=sql_text,
        error=PetcareError(f"declined by the user: {reason}".rstrip(": ")),
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
    """Executions the actor may see (own, their projects'; admins all), newest first."""
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
            }
        )
        for r in rows
    ]


def save_draft(rt: Runtime, actor: Actor, connection_name: str, content: str) -> None:
    """Autosave the editor text for (actor, connection)."""
    conn_info = connections.get(rt, actor, connection_name)
    with rt.store.tx(actor.identity) as tx:
        tx.execute("engine_draft_save", {"connection_id": conn_info.id, "content": content})


def load_draft(rt: Runtime, actor: Actor, connection_name: str) -> Draft | None:
    """The saved editor text for (actor, connection), if any."""
    conn_info = connections.get(rt, actor, connection_name)
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("engine_draft_load", {"connection_id": conn_info.id})
    return None if row is None else Draft(row["content"], row["updated_at"])
