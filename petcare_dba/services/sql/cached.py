"""The engine's use of the opt-in query-result cache (`result_cache_enabled`, issue 18).

Called by `engine.run` on the leased connection after the final decision, only when the setting
is on and the plan is one plain read (`usable`): `look` reads the scope on the lease (connection,
credential path and credential, the app role's scope, the caps and the login role's privilege
fingerprint: services/cache/results.py), takes the generation and looks the exact statement up.
A hit is still a statement on record: its audit intent is written first (it checks the
connection lookup's stamp, as any run's does) and its outcome says "served from cache". On a
miss the engine runs the plan and `keep` puts a complete result back with the generation taken
before it ran, so a DDL (NOTIFY invalidation) between the two drops it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from petcare_dba.db.target import Lease, Limits
from petcare_dba.messages import say
from petcare_dba.services.cache import Generation, results
from petcare_dba.services.sql import record
from petcare_dba.services.sql.execute import QueryResult
from petcare_dba.services.sql.plan import Plan, Step
from petcare_dba.services.sql.record import RunContext

SERVED = say("msg.run.served")


@dataclass(frozen=True)
class Lookup:
    """A miss: what `keep` needs to put the result back."""

    scope: results.Scope
    generation: Generation
    statement: str


def usable(chosen: Plan, rollback: bool) -> Step | None:
    """The one step of a plan the cache may answer: a plain read, not a dry run."""
    if rollback or len(chosen.steps) != 1 or not chosen.read_only:
        return None
    step = chosen.steps[0]
    return step if results.cacheable(step.classification) else None


def look(
    ctx: RunContext,
    lease: Lease,
    step: Step,
    limits: Limits,
    *,
    url: str,
    read_only: bool,
    detail: dict[str, Any],
) -> QueryResult | Lookup:
    """The cached result (its audit pair written), or the lookup to `keep` a fresh one with."""
    started = time.perf_counter()
    scope = results.scope(
        lease.conn,
        connection_id=ctx.connection_id,
        credential_url=url,
        credential_path=str(ctx.detail.get("credential", "")),
        role="assistant" if ctx.ai_initiated else ctx.actor.role,
        read_only=read_only,
        max_rows=limits.max_rows,
        max_bytes=limits.max_bytes,
    )
    cache = ctx.rt.cache
    generation = results.generation(cache, scope)
    statement = step.classification.text
    hit = results.get(cache, scope, statement)
    if hit is None:
        return Lookup(scope, generation, statement)
    pending = record.begin(ctx, step.classification, {**detail, "cache": "hit"})
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    result = QueryResult(
        hit.columns,
        hit.column_types,
        hit.rows,
        hit.row_count,
        False,
        None,
        elapsed,
        hit.column_oids,
        step.classification.index,
        hit.command_tag,
    )
    record.finish(ctx, pending, rows=hit.row_count, duration_ms=elapsed, message=SERVED)
    return result


def keep(ctx: RunContext, lookup: Lookup, result: QueryResult) -> bool:
    """Put a complete result back (False: truncated, too big, uncacheable or invalidated)."""
    kept = results.CachedResult(
        result.columns,
        result.column_types,
        result.rows,
        result.row_count,
        result.command_tag,
        column_oids=result.column_oids,
    )
    return results.put(
        ctx.rt.cache,
        ctx.rt.settings,
        lookup.scope,
        lookup.statement,
        None,
        kept,
        generation=lookup.generation,
        truncated=result.truncated,
    )
