"""An entry point: the engine's verdict on a script without running it (`classify --connection`).

`verdict` takes the same steps as `engine.run`, in the same order — syntax check, the decisions
that need no lookup, the transaction plan, the pg_proc lookup on the connection through the
actor's pool, the final decision of `safety.decide_script` — and stops before anything is
audited or executed, so `classify --connection C [--role R]` and the engine give one answer
(issue 12, "one decision").
"""

from __future__ import annotations

from dataclasses import dataclass

from petcare_dba.db import target
from petcare_dba.errors import Refused, ValidationError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, plan, safety
from petcare_dba.services.sql.safety import Classification


@dataclass(frozen=True)
class Verdict:
    """What `run` would decide for a script, without running or auditing it.

    `outcome` is allow, confirm, reject (with the rule) or error (a syntax error or a statement
    that cannot run in the transaction); `classifications` are resolved on the connection.
    """

    outcome: str
    rule: str | None
    message: str | None
    role: str
    classifications: tuple[Classification, ...]


def verdict(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    sql_text: str,
    *,
    role: str | None = None,
    mode: str = "transaction",
    ai_initiated: bool = False,
) -> Verdict:
    """The engine's decision for `sql_text` on a stored connection (`classify --connection`).

    Same steps as `run` in the same order (syntax, decisions that need no lookup, transaction
    plan, pg_proc lookup through the actor's pool, final decision), with `role` in place of
    the actor's app role if given. Nothing is executed or audited.
    """
    conn_info = connections.for_run(rt, actor, connection_name)
    role = "viewer" if ai_initiated else (role or actor.role)
    read_only_conn = conn_info.read_only or ai_initiated
    statements, found = plan.analyse(sql_text)
    if not found:
        raise ValidationError("there is no SQL statement to classify")

    def made(outcome: str, rule: str | None = None, message: str | None = None) -> Verdict:
        return Verdict(outcome, rule, message, role, tuple(found))

    if found[0].parse_error is not None:  # as `plan.check_syntax` for an unconfirmed run
        error = plan.syntax_error(sql_text)
        message = error.message if error else found[0].parse_error
        if role in ("dba", "admin"):
            message += " (a dba may confirm it; it is then treated as destructive)"
        return made("error", None, message)
    early = safety.decide_script(
        plan.decidable_early(found), role, read_only_conn, connection_name=conn_info.name
    )
    if isinstance(early, safety.Reject):
        return made("reject", early.rule, early.message)
    read_only_path = role == "viewer" or read_only_conn
    try:
        plan.plan(statements, found, mode=mode, read_only_path=read_only_path)
    except Refused as exc:
        return made("reject", plan.RULE_TRANSACTION, exc.message)
    except ValidationError as exc:
        return made("error", None, exc.message)
    pool = engine.pool_for(rt, actor, connection_name, conn_info.id, conn_info.url)
    app_name = target.application_name(actor.username, actor.session_id, ai=ai_initiated)
    with pool.connection(app_name) as lease:
        resolved = plan.resolve(lease.conn, sql_text, statements, found)
    if resolved is not None:
        statements, found = resolved
    decision = safety.decide_script(found, role, read_only_conn, connection_name=conn_info.name)
    if isinstance(decision, safety.Reject):
        return made("reject", decision.rule, decision.message)
    if isinstance(decision, safety.Confirm):
        return made("confirm", None, decision.reason)
    return made("allow")
