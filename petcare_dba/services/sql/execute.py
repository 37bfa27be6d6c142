"""The execute stage of a run: one transaction for the script, or one per statement.

Third stage of the path engine.run → intake → plan → execute → record: it is handed the plan
and a leased connection, proves composed text through `wrap` and writes each statement's paper
trail through `record`; it never calls the plan or the engine. `in_transaction` runs every
statement of a plan inside one transaction (all or nothing; the outcome rows are written once it
has committed or rolled back, so a rolled-back statement is never logged as 'ok');
`statement_by_statement` commits each statement on its own and stops at the first failure. Both
write the audit intent before each statement (`record.begin`) and return the results with the
error, if any, instead of raising it; the outcomes are written after the response. A statement
that runs alone in its transaction (a one-statement script, or statement by statement) goes
through `run_alone`: opener, statement and COMMIT pipelined in at most two round trips
(`db.target.pipeline`). `run_step` and `result_of` serve the explicit transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from petcare_dba.db.target import CancelHandle, Lease, Limits, executor, pipeline
from petcare_dba.errors import PetcareError
from petcare_dba.messages import say
from petcare_dba.services.sql import record, wrap
from petcare_dba.services.sql.parse import Classification
from petcare_dba.services.sql.record import RunContext

if TYPE_CHECKING:  # the plan's output is handed in; execute never calls back into the plan
    from petcare_dba.services.sql.plan import Plan, Step


# One type from the fetch to the caller (issue 16): the executor's result, with its index.
QueryResult = executor.QueryResult


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
    from_cache: bool = False  # served from the opt-in result cache (services/sql/cached.py)

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> RunResult:
        """Raise the statement's error, if any; return self otherwise."""
        if self.error is not None:
            raise self.error
        return self


Outcome = tuple[list[QueryResult], bool, PetcareError | None, int | None, list[str]]


def result_of(step: Step, fetched: QueryResult) -> QueryResult:
    """The result of one statement as the engine reports it: the fetch, with its index."""
    return dataclasses.replace(fetched, statement_index=step.classification.index)


def run_step(lease: Lease, step: Step, limits: Limits, handle: CancelHandle | None) -> QueryResult:
    """Send one planned statement on the lease inside the open transaction (`wrap` proves a
    cursor's DECLARE first)."""
    return executor.execute(
        lease.conn,
        step.classification.text,
        limits,
        method=step.method,
        handle=handle,
        verify=_verify(step),
    )


def run_alone(
    lease: Lease,
    step: Step,
    limits: Limits,
    handle: CancelHandle | None,
    *,
    read_only: bool,
    claimed_read_only: bool,
    rollback: bool = False,
) -> QueryResult:
    """One planned statement in its own guarded transaction, pipelined (two round trips)."""
    return pipeline.run_guarded(
        lease.conn,
        step.classification.text,
        limits,
        read_only=read_only,
        claimed_read_only=claimed_read_only,
        method=step.method,
        handle=handle,
        verify=_verify(step),
        rollback=rollback,
    )


def _verify(step: Step) -> Callable[[str], None] | None:
    if step.method is executor.Method.CURSOR and step.statement is not None:
        return wrap.verifier(wrap.prove_declare, step.statement.node)
    return None


def in_transaction(
    ctx: RunContext,
    lease: Lease,
    plan: Plan,
    limits: Limits,
    handle: CancelHandle | None,
    detail: dict[str, Any],
    *,
    rollback: bool = False,
) -> Outcome:
    """All statements in one transaction: all or nothing; outcomes are written after it ends.

    With `rollback` the transaction is rolled back even when every statement succeeded. A
    script of one statement is one pipelined transaction (`run_alone`).
    """
    if len(plan.steps) == 1 and plan.steps[0].autocommit and not rollback:
        return statement_by_statement(ctx, lease, plan, limits, handle, detail)
    if len(plan.steps) == 1:
        return _alone(ctx, lease, plan, limits, handle, detail, rollback=rollback)
    done: list[tuple[record.Pending, QueryResult]] = []
    failure: tuple[record.Pending, PetcareError] | None = None
    try:
        with executor.transaction(lease.conn, limits, read_only=plan.read_only, rollback=rollback):
            for step in plan.steps:
                executor.require_read_only(lease.conn, bool(detail.get("read_only")))
                pending = record.begin(ctx, step.classification, detail)
                try:
                    fetched = run_step(lease, step, limits, handle)
                except PetcareError as exc:
                    failure = (pending, exc)
                    raise
                done.append((pending, result_of(step, fetched)))
    except PetcareError as exc:
        if failure is None and done and not isinstance(exc, record.IntentNotRecorded):
            failure = (done.pop()[0], exc)  # COMMIT failed: it belongs to the last statement
        if failure is None:  # BEGIN or an intent failed; the transaction was rolled back
            for pending, _ in done:
                record.finish(
                    ctx, pending, error=exc, message=say("msg.run.rolled_back", message=exc.message)
                )
            raise
        pending, error = failure
        index = pending.classification.index
        for ok_pending, _ in done:
            record.finish(
                ctx, ok_pending, error=error, message=say("msg.run.rolled_back_at", n=index + 1)
            )
        record.finish(ctx, pending, error=error)
        return [r for _, r in done], False, error, index, []
    for pending, result in done:
        record.finish(
            ctx,
            pending,
            rows=result.row_count,
            duration_ms=result.elapsed_ms,
            message=say("msg.run.dry_run") if rollback else None,
        )
    return [r for _, r in done], not rollback, None, None, []


def _alone(
    ctx: RunContext,
    lease: Lease,
    plan: Plan,
    limits: Limits,
    handle: CancelHandle | None,
    detail: dict[str, Any],
    *,
    rollback: bool,
) -> Outcome:
    (step,) = plan.steps
    pending = record.begin(ctx, step.classification, detail)
    try:
        fetched = run_alone(
            lease,
            step,
            limits,
            handle,
            read_only=plan.read_only,
            claimed_read_only=bool(detail.get("read_only")),
            rollback=rollback,
        )
    except PetcareError as exc:
        record.finish(ctx, pending, error=exc)
        return [], False, exc, step.classification.index, []
    result = result_of(step, fetched)
    record.finish(
        ctx,
        pending,
        rows=result.row_count,
        duration_ms=result.elapsed_ms,
        message=say("msg.run.dry_run") if rollback else None,
    )
    return [result], not rollback, None, None, []


def statement_by_statement(
    ctx: RunContext,
    lease: Lease,
    plan: Plan,
    limits: Limits,
    handle: CancelHandle | None,
    detail: dict[str, Any],
) -> Outcome:
    """Each statement in its own transaction (or none, for VACUUM and the like); stop at the
    first failure."""
    results: list[QueryResult] = []
    for step in plan.steps:
        read_only = not step.autocommit and (plan.read_only or step.classification.read_only)
        # The audit row says how this statement's transaction really was opened.
        pending = record.begin(ctx, step.classification, {**detail, "read_only": read_only})
        try:
            if step.autocommit:
                with executor.session_limits(lease.conn, limits):
                    fetched = run_step(lease, step, limits, handle)
            else:
                fetched = run_alone(
                    lease, step, limits, handle, read_only=read_only, claimed_read_only=read_only
                )
        except PetcareError as exc:
            record.finish(ctx, pending, error=exc)
            return results, bool(results), exc, step.classification.index, []
        result = result_of(step, fetched)
        results.append(result)
        record.finish(ctx, pending, rows=result.row_count, duration_ms=result.elapsed_ms)
    return results, True, None, None, []
