"""The one front half of every run: parse → decide → confirm → open, written once (issue 16).

Every entry point (`engine.run`, and through it the editor, the CLI, EXPLAIN, project runs and the
assistant's tools; `export`; the explicit `transaction`; `verdict`) reaches the target through
these steps and nothing else: `context` looks the connection up (RLS, flags, sealed conninfo),
`take` checks the text (`intake`; a refused text is audited), `early` splits, classifies and
decides what needs no connection, `credential` picks the credential path (the read path only as
a least-privilege role, Q3), `open_lease` leases a connection of the actor's pool, and `final`
decides for good with the connection's pg_proc volatility. Each refusal is recorded (`record`)
before it is raised, so every entry gets the same refusals and audit rows; `judge_early` and
`judge_final` give the same decisions unrecorded (`verdict`). An entry may add its own rule
(`vet`: export's "one read-only SELECT"); it can only refuse more, never less. READ ONLY, the
role, pinned settings and SET LOCAL timeouts are set by db.target when the run's transaction
opens, with the `Limits` of `limits_for`; tests/sql/test_one_front.py proves there is one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import Lease, Limits, executor
from petcare_dba.errors import PetcareError, Refused, Unavailable, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections, intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import plan, record
from petcare_dba.services.sql.plan import Analysis
from petcare_dba.services.sql.record import RunContext, outcome_of
from petcare_dba.services.sql.refusals import Ask, Refusal, Vet
from petcare_dba.services.sql.safety import Classification
from petcare_dba.settings import Settings

AI_MAX_ROWS = 1000
AI_STATEMENT_TIMEOUT_MS = 10_000

__all__ = [
    "Analysis",
    "Ask",
    "Refusal",
    "Vet",
    "ask_for",
    "connect",
    "context",
    "credential",
    "early",
    "final",
    "judge_early",
    "judge_final",
    "limits_for",
    "open_lease",
    "pool_for",
    "reader",
    "take",
]


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


def pool_for(
    rt: Runtime, actor: Actor, connection_name: str, connection_id: int, url: str | None = None
) -> executor.TargetPool:
    """The actor's pool for a stored connection (every entry point leases from it)."""
    settings = rt.settings
    return rt.target_pools.get(
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


def context(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    *,
    detail: dict[str, Any],
    ai_initiated: bool = False,
    project_id: int | None = None,
    script_version_id: int | None = None,
    stamped: bool = False,
) -> tuple[connections.Target, RunContext]:
    """The connection (visibility, flags, sealed conninfo) and the context its rows share.

    `stamped` hands the lookup's stamp to the first intent, which refuses a stale lookup
    (`record.LookupChanged`: the engine then starts again from a fresh one).
    """
    info = connections.for_run(rt, actor, connection_name)
    check = {"connection_stamp": info.stamp} if stamped and info.stamp else {}
    ctx = RunContext(
        rt,
        actor,
        info.id,
        info.name,
        ai_initiated,
        project_id,
        script_version_id,
        detail,
        check=check,
    )
    return info, ctx


def take(ctx: RunContext, sql_text: str) -> RunContext:
    """Check the submitted text first (nothing is parsed before it); a refusal is on record."""
    try:
        intake.check(sql_text, ctx.rt.settings)
    except ValidationError as exc:
        record.refused_input(ctx, sql_text, exc)
        raise
    prefix = int(ctx.rt.settings.audit_sql_prefix_bytes)
    view = audit.submitted_view(sql_text, prefix)
    return dataclasses.replace(ctx, submitted=view, prefix_bytes=prefix)


def ask_for(
    actor: Actor,
    info: connections.Target,
    *,
    confirmed: bool = False,
    mode: str = "transaction",
    ai_initiated: bool = False,
    role: str | None = None,
) -> Ask:
    """Who asks, and how; the assistant always takes the viewer path (reliability AI1)."""
    role = "viewer" if ai_initiated else (role or actor.role)
    read_only_conn = info.read_only or ai_initiated
    return Ask(role, read_only_conn, confirmed, mode, role == "viewer" or read_only_conn, info.name)


def judge_early(sql_text: str, ask: Ask, vet: Vet | None = None) -> Analysis | Refusal:
    """The decision before any connection, unrecorded (syntax, role, transaction plan)."""
    return plan.early(sql_text, ask, vet)


def judge_final(
    conn: Any, sql_text: str, analysis: Analysis, ask: Ask, vet: Vet | None = None
) -> Analysis | Refusal:
    """The decision with the connection's pg_proc volatility (`conn=None`: no lookup)."""
    return plan.final(conn, sql_text, analysis, ask, vet)


def early(ctx: RunContext, sql_text: str, ask: Ask, vet: Vet | None = None) -> Analysis:
    """Split, classify and decide before connecting; a refusal is recorded, then raised."""
    analysis = plan.early(sql_text, ask, vet)
    if isinstance(analysis, Refusal):
        raise record.refused(ctx, analysis, text=sql_text)
    return analysis


def final(
    ctx: RunContext, conn: Any, sql_text: str, analysis: Analysis, ask: Ask, vet: Vet | None = None
) -> Analysis:
    """Decide for good on the leased connection; a refusal is recorded, then raised."""
    analysis_or_refusal = plan.final(conn, sql_text, analysis, ask, vet)
    if isinstance(analysis_or_refusal, Refusal):
        raise record.refused(ctx, analysis_or_refusal, text=sql_text)
    return analysis_or_refusal


def reader(role: str, ai_initiated: bool) -> str:
    """Who takes the read path, for refusal messages."""
    if ai_initiated:
        return say("msg.connections.who.assistant")
    if role == "viewer":
        return say("msg.connections.who.viewers")
    return say("msg.connections.who.read_only")


def connect(
    rt: Runtime, actor: Actor, info: connections.Target, *, read_path: bool, who: str
) -> tuple[str, str]:
    """(conninfo, credential path) of a run; the read path only as a least-privilege role."""
    return connections.credential_for(rt, actor, info, read_path=read_path, who=who)


def credential(
    ctx: RunContext,
    info: connections.Target,
    sql_text: str,
    first: Classification,
    read_only_path: bool,
    who: str,
) -> str:
    """`connect`, with the credential path in every audit row of the run (issue 12, item 9);
    a refusal is recorded against `first` before it is raised."""
    try:
        url, path = connect(ctx.rt, ctx.actor, info, read_path=read_only_path, who=who)
    except PetcareError as exc:
        ctx.detail["credential"] = connections.READ_ONLY if info.read_url else connections.PRIMARY
        with contextlib.suppress(Unavailable):
            outcome = "refused" if isinstance(exc, Refused) else outcome_of(exc)
            record.decided(ctx, first, outcome, text=sql_text, error=exc)
        raise
    ctx.detail["credential"] = path
    return url


@contextlib.contextmanager
def open_lease(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    connection_id: int,
    url: str | None,
    *,
    ai: bool = False,
) -> Iterator[Lease]:
    """A connection of the actor's pool for `url`, named for the actor's session."""
    pool = pool_for(rt, actor, connection_name, connection_id, url)
    with pool.connection(target.application_name(actor.username, actor.session_id, ai=ai)) as lease:
        yield lease
