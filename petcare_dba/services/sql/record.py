"""The record stage of a run: execucoes_scripts rows and audit intent/outcome pairs.

Last stage of the path engine.run → intake → plan → execute → record: it is handed what it
writes (the run's context, a statement's classification, a plan's `Refusal`) and calls nothing
above it. Before a statement runs, `begin` appends an audit row with outcome 'intent'; if it
cannot be written it raises Unavailable and the statement does not run (reliability A1, fail
closed). `finish` records the outcome after it ran (A2): the audit outcome row and the
statement's execucoes_scripts row, together, written after the response by the runtime's writer
(issue 16: the durable intent is the request path's only write); `settle` waits for them.
`decided` and `refused` record a statement that never ran (refused, needs confirmation, syntax
error, no connection) with one audit row and one execucoes_scripts row (A3).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from petcare_dba.errors import (
    PetcareError,
    QueryCancelled,
    QueryTimeout,
    Unavailable,
    ValidationError,
)
from petcare_dba.messages import say
from petcare_dba.services import intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.observability import metrics
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql.parse import Classification

if TYPE_CHECKING:  # the plan's output, handed on; record calls nothing of the plan
    from petcare_dba.services.sql.refusals import Refusal

ACTION = "sql.execute"


class IntentNotRecorded(Unavailable):
    """The audit intent could not be written: nothing ran."""


class LookupChanged(PetcareError):
    """The intent found the run's connection changed or no longer visible (PC409): nothing was
    written and nothing ran; the engine starts again from a fresh lookup."""


STALE_LOOKUP = "PC409"  # raised by petcare.engine_intent (migrations 0021, 0033)


@dataclass(frozen=True)
class RunContext:
    """Who runs what where: the fields every row of one engine run shares."""

    rt: Runtime
    actor: Actor
    connection_id: int
    connection_name: str
    ai_initiated: bool = False
    project_id: int | None = None
    script_version_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # What the rows keep of the whole submitted text (prefix, sha256), computed once per run.
    submitted: intake.AuditView | None = None
    prefix_bytes: int = intake.DEFAULT_PREFIX_BYTES
    # The connection lookup's stamp, checked by the first intent of the run and then dropped.
    check: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """A statement whose intent is on record; `finish` closes it."""

    event_id: uuid.UUID
    classification: Classification
    started: float


def label(c: Classification) -> str:
    """The classification text stored in execucoes_scripts and the audit log."""
    flags = [str(c.kind)]
    if c.destructive:
        flags.append("destructive")
    if c.escalates:
        flags.append("escalates")
    if c.parse_error is not None:
        flags.append("unparsed")
    return "/".join(flags)


def refused_input(ctx: RunContext, text: str, error: ValidationError) -> None:
    """Audit a text intake.check refused, as 'refused' with rule 'input' (nothing was parsed)."""
    audit.record(
        ctx.rt.store,
        ctx.actor,
        ACTION,
        "refused",
        event_id=audit.new_event_id(),
        connection_id=ctx.connection_id,
        target=ctx.connection_name,
        submitted=audit.submitted_view(text, int(ctx.rt.settings.audit_sql_prefix_bytes)),
        ai_initiated=ctx.ai_initiated,
        detail={**ctx.detail, "message": error.message, "rule": "input"},
    )


def outcome_of(error: PetcareError | None) -> str:
    """The audit/execucoes outcome word for how a statement ended."""
    if error is None:
        return "ok"
    if isinstance(error, QueryTimeout):
        return "timeout"
    if isinstance(error, QueryCancelled):
        return "cancelled"
    return "error"


def _run_params(
    ctx: RunContext,
    c: Classification,
    event_id: uuid.UUID | None,
    *,
    text: str,
    outcome: str,
    sqlstate: str | None = None,
    message: str | None = None,
    duration_ms: float | None = None,
) -> dict[str, Any]:
    # The row's text is the statement (or the whole submission when nothing ran), bounded; its
    # hash and size are always those of the whole submitted text.
    view = intake.audit_view(text, ctx.prefix_bytes)
    whole = ctx.submitted or audit.submitted_view(text, ctx.prefix_bytes)
    return {
        "user_id": ctx.actor.user_id,
        "connection_id": ctx.connection_id,
        "project_id": ctx.project_id,
        "script_version_id": ctx.script_version_id,
        "event_id": event_id,
        "session_id": ctx.actor.session_id,
        "sql_text": view.prefix,
        "sql_hash": whole.sha256,
        "sql_bytes": whole.size,
        "statement_index": c.index,
        "classification": label(c),
        "ai_initiated": ctx.ai_initiated,
        "outcome": outcome,
        "sqlstate": sqlstate,
        "message": message,
        "duration_ms": duration_ms,
    }


def _run_row(params: dict[str, Any]) -> str:
    """The execucoes_scripts row of `_run_params` as JSON keyed by column (petcare.engine_*)."""
    row = {("audit_event_id" if k == "event_id" else k): v for k, v in params.items()}
    return json.dumps(row, default=str)


def _insert_run(
    ctx: RunContext, c: Classification, event_id: uuid.UUID | None, **fields: Any
) -> int | None:
    """The new row's id; None when the database only counted it (refusals beyond the limit)."""
    with ctx.rt.store.tx(ctx.actor.identity) as tx:
        row_id = tx.value("engine_run_insert", _run_params(ctx, c, event_id, **fields))
    return None if row_id is None else int(row_id)


def begin(ctx: RunContext, c: Classification, detail: dict[str, Any]) -> Pending:
    """Commit the audit intent before the statement (A1): one call of petcare.engine_intent,
    one transaction, one round trip. If it fails nothing runs (IntentNotRecorded) and a
    best-effort 'error' event says why. The statement's execucoes_scripts row is written with
    its outcome (`finish`).
    """
    event_id = audit.new_event_id()
    try:
        ctx.rt.store.call(
            ctx.actor.identity,
            "engine_intent_call",
            {
                "connection_id": ctx.connection_id,
                "stamp": ctx.check.pop("connection_stamp", None),
                "audit": audit.row_for(
                    ctx.actor,
                    ACTION,
                    "intent",
                    event_id=event_id,
                    connection_id=ctx.connection_id,
                    target=ctx.connection_name,
                    sql_text=None if ctx.submitted else c.text,
                    submitted=ctx.submitted,
                    classification=label(c),
                    ai_initiated=ctx.ai_initiated,
                    detail={**ctx.detail, **detail, "statement_index": c.index},
                ),
            },
        )
    except PetcareError as exc:
        if exc.sqlstate == STALE_LOOKUP:
            raise LookupChanged(exc.message, sqlstate=exc.sqlstate) from exc
        _safe_outcome(
            ctx,
            event_id,
            c,
            "error",
            sqlstate=exc.sqlstate,
            detail={"error": "audit intent unavailable"},
        )
        raise IntentNotRecorded(
            say("msg.security.audit_down", message=exc.message),
            hint=say("msg.security.audit_down.hint"),
        ) from exc
    return Pending(event_id, c, time.perf_counter())


def finish(
    ctx: RunContext,
    pending: Pending,
    *,
    error: PetcareError | None = None,
    rows: int | None = None,
    duration_ms: float | None = None,
    message: str | None = None,
) -> None:
    """Record how a statement ended, after the response: the write leaves the request path.

    The intent is already durable (A1), so the outcome row and the execucoes_scripts row are
    queued on the runtime's writer (`rt.deferred`), in order, and land a moment later; `settle`
    waits for them. If the write fails, or the process dies first, the intent stays without
    outcome and audit_reconcile marks it 'unknown' and writes its run row so (A2), never the
    statement's own failure.
    """
    outcome = outcome_of(error)
    if message is None and error is not None:
        message = error.message
    elapsed = (
        duration_ms
        if duration_ms is not None
        else round((time.perf_counter() - pending.started) * 1000, 3)
    )
    sqlstate = error.sqlstate if error is not None else None
    metrics.statement_finished(outcome, ctx.actor.role, elapsed / 1000)

    def write() -> None:
        # Built here, off the request path: the rows' JSON costs more than a little.
        c = pending.classification
        params = {
            "run": _run_row(_run_params(ctx, c, pending.event_id, text=c.text, outcome="running")),
            "outcome": json.dumps(
                {
                    "outcome": outcome,
                    "duration_ms": elapsed,
                    "rows_affected": rows,
                    "sqlstate": sqlstate,
                    "message": message,
                }
            ),
            "audit": audit.row_for(
                ctx.actor,
                ACTION,
                outcome,
                event_id=pending.event_id,
                connection_id=ctx.connection_id,
                target=ctx.connection_name,
                classification=label(pending.classification),
                sqlstate=sqlstate,
                rows_affected=rows,
                duration_ms=elapsed,
                ai_initiated=ctx.ai_initiated,
                detail={  # execution_id: added by petcare.engine_settle, which makes the row
                    **({"message": message} if message else {}),
                    # The credential path the statement ran as (issue 12, item 9).
                    **{k: ctx.detail[k] for k in ("credential",) if k in ctx.detail},
                },
            ),
        }
        with contextlib.suppress(PetcareError):  # left as an intent: reconciled to 'unknown'
            ctx.rt.store.call(ctx.actor.identity, "engine_settle_call", params)

    ctx.rt.deferred.submit(write)


def settle(rt: Runtime, timeout: float = 30.0) -> bool:
    """Wait until every outcome this runtime has queued is written (the history is then exact)."""
    return rt.deferred.settle(timeout)


def _safe_outcome(
    ctx: RunContext,
    event_id: uuid.UUID,
    c: Classification,
    outcome: str,
    *,
    sqlstate: str | None,
    detail: dict[str, Any],
) -> None:
    try:
        audit.record(
            ctx.rt.store,
            ctx.actor,
            ACTION,
            outcome,
            event_id=event_id,
            connection_id=ctx.connection_id,
            target=ctx.connection_name,
            classification=label(c),
            sqlstate=sqlstate,
            detail=detail,
        )
    except PetcareError:
        pass  # the intent without outcome is reconciled to 'unknown' later


def decided(
    ctx: RunContext,
    c: Classification,
    outcome: str,
    *,
    text: str,
    error: PetcareError,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit row and one execucoes_scripts row for a statement that did not run.

    Raises Unavailable when the audit row cannot be written (the caller's error is then
    chained), so even a refusal is never silently unlogged.
    """
    extra = {**ctx.detail, **(detail or {}), "message": error.message, "statement_index": c.index}
    audit.record(
        ctx.rt.store,
        ctx.actor,
        ACTION,
        outcome,
        event_id=audit.new_event_id(),
        connection_id=ctx.connection_id,
        target=ctx.connection_name,
        sql_text=None if ctx.submitted else text,
        submitted=ctx.submitted,
        classification=label(c),
        sqlstate=error.sqlstate,
        ai_initiated=ctx.ai_initiated,
        detail=extra,
    )
    if outcome == "confirm":
        return  # a prompt, not an execution; the confirmed run or decline() follows
    try:
        _insert_run(
            ctx, c, None, text=text, outcome=outcome, sqlstate=error.sqlstate, message=error.message
        )
    except PetcareError:
        pass  # the audit row above is the record that matters


def refused(ctx: RunContext, refusal: Refusal, *, text: str) -> PetcareError:
    """Record a plan's refusal (`decided`) and return its error for the caller to raise."""
    decided(
        ctx,
        refusal.classification,
        refusal.outcome,
        text=text,
        error=refusal.error,
        detail=refusal.detail,
    )
    return refusal.error
