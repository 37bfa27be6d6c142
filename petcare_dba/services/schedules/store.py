"""Schedules: add, list, pause, resume, remove and the history, each change audited.

Who may schedule what is decided when the schedule is made and again at every run (`runner`):
a table backup needs the dba role (as a backup does); an advisor run needs analyst; a project
script needs membership of the project and a script the owner's role may run on the connection
(the engine's decision table: a viewer only read-only scripts, an analyst no DDL). A script
that the engine would run only after a confirmation is scheduled only with `confirmed`, which
the owner gives once here (it is recorded and audited). Row level security (migration 0026)
shows owners theirs, admins all, and project members the project's script schedules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from petcare_dba.errors import NeedsConfirmation, NotFound, PermissionDenied, ValidationError
from petcare_dba.messages import recognised_in, say
from petcare_dba.services import connections, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.schedules import cron
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine, safety

KINDS = ("backup", "script", "advisor")
NAME_MAX = 100
KEEP_COUNT_MAX = 1000
KEEP_DAYS_MAX = 3650
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IDENT = re.compile(r"^[^\x00-\x1f\x7f]{1,63}$")


@dataclass(frozen=True)
class Schedule:
    """A schedule as the list shows it (last_*: its latest run)."""

    id: int
    name: str
    kind: str
    cron: str
    tz: str
    owner: str
    connection: str
    schema_name: str | None
    table_name: str | None
    keep_count: int | None
    keep_days: int | None
    project_id: int | None
    project: str | None
    script: str | None
    script_version: int | None
    confirmed: bool
    paused: bool
    next_due_at: datetime
    created_at: datetime
    last_status: str | None
    last_run_at: datetime | None
    last_error: str | None

    @property
    def what(self) -> str:
        """What it runs, in a few words."""
        if self.kind == "backup":
            return f"{self.schema_name}.{self.table_name}"
        if self.kind == "script":
            version = f" v{self.script_version}" if self.script_version else " (latest)"
            return f"{self.project}/{self.script}{version}"
        return "advisor"


@dataclass(frozen=True)
class Run:
    """One run of a schedule."""

    id: int
    schedule_id: int
    due_at: datetime
    trigger: str
    missed: int
    instance: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    result: dict[str, Any] | None


def _name(name: str) -> str:
    text = (name or "").strip()
    if not text or len(text) > NAME_MAX or _CONTROL.search(text):
        raise ValidationError(
            say("msg.schedules.name", n=NAME_MAX), hint=say("msg.schedules.name.hint")
        )
    return text


def _bounded(value: int | None, top: int, what: str) -> int | None:
    if value is None:
        return None
    if not 1 <= int(value) <= top:
        raise ValidationError(say("msg.schedules.bounded", what=what, top=top, value=value))
    return int(value)


def _refuse(rt: Runtime, actor: Actor, role: str, what: str, target: str) -> None:
    if not actor.at_least(role):
        audit.record(
            rt.store,
            actor,
            "schedule.add",
            "refused",
            target=target,
            detail={"reason": f"needs {role}"},
        )
        actor.require(role, what)


def script_allowed(content: str, role: str, read_only: bool, conn: str, confirmed: bool) -> None:
    """Raise unless `role` may run `content` on the connection unattended (engine's table)."""
    decision = safety.decide_script(engine.classify(content), role, read_only, connection_name=conn)
    if isinstance(decision, safety.Reject):
        raise PermissionDenied(
            say("msg.schedules.role_refused", role=role, message=decision.message)
        )
    if isinstance(decision, safety.Confirm) and not confirmed:
        raise NeedsConfirmation(
            say("msg.schedules.needs_confirmation", reason=decision.reason),
            objects=decision.objects,
            reason=decision.reason,
            hint=say("msg.schedules.needs_confirmation.hint"),
        )


def add(
    rt: Runtime,
    actor: Actor,
    *,
    name: str,
    kind: str,
    cron_expr: str,
    tz: str = "UTC",
    connection: str,
    schema: str | None = None,
    table: str | None = None,
    keep_count: int | None = None,
    keep_days: int | None = None,
    project: str | int | None = None,
    script: str | None = None,
    version: int | None = None,
    confirmed: bool = False,
) -> int:
    """Make a schedule owned by `actor`; its id (audited)."""
    name = _name(name)
    if kind not in KINDS:
        choices = ", ".join(KINDS)
        raise ValidationError(say("msg.schedules.kind", choices=choices, kind=repr(kind[:40])))
    expr, zone = cron.validate(cron_expr, tz)
    params: dict[str, Any] = {
        "schema": None,
        "table": None,
        "keep_count": None,
        "keep_days": None,
        "project_id": None,
        "script_id": None,
        "script_version": None,
    }
    if kind == "backup":
        _refuse(rt, actor, "dba", say("msg.access.scheduling_table_backup"), name)
        if not schema or not table or not _IDENT.match(schema) or not _IDENT.match(table):
            raise ValidationError(say("msg.schedules.backup_table"))
        params.update(
            schema=schema,
            table=table,
            keep_count=_bounded(keep_count, KEEP_COUNT_MAX, say("msg.schedules.keep_count")),
            keep_days=_bounded(keep_days, KEEP_DAYS_MAX, say("msg.schedules.keep_days")),
        )
    elif kind == "advisor":
        _refuse(rt, actor, "analyst", say("msg.access.scheduling_advisor_runs"), name)
    conn = connections.get(rt, actor, connection)
    if kind == "script":
        if project is None or not script:
            raise ValidationError(say("msg.schedules.script_needs"))
        found = projects.scripts.get(rt, actor, project, script)
        chosen = projects.versions.version(rt, actor, project, found.id, version)
        try:
            script_allowed(chosen.content, actor.role, conn.read_only, conn.name, confirmed)
        except PermissionDenied as exc:
            audit.record(
                rt.store,
                actor,
                "schedule.add",
                "refused",
                target=name,
                detail={"reason": exc.message[:300]},
            )
            raise
        params.update(project_id=found.project_id, script_id=found.id, script_version=version)
    now = datetime.now(UTC)
    with rt.store.tx(actor.identity) as tx:
        schedule_id = int(
            tx.value(
                "schedule_insert",
                {
                    **params,
                    "name": name,
                    "kind": kind,
                    "cron": expr,
                    "tz": zone,
                    "connection_id": conn.id,
                    "confirmed": bool(confirmed),
                    "next_due_at": cron.next_after(expr, zone, now),
                },
            )
        )
        audit.record_in(
            tx,
            actor,
            "schedule.add",
            "ok",
            connection_id=conn.id,
            target=name,
            detail={
                "schedule_id": schedule_id,
                "kind": kind,
                "cron": expr,
                "tz": zone,
                **{k: v for k, v in params.items() if v is not None},
                "confirmed": bool(confirmed),
            },
        )
    return schedule_id


def list_schedules(rt: Runtime, actor: Actor) -> list[Schedule]:
    """The schedules `actor` may see."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("schedule_list", {"id": None})
    return [Schedule(**{**r, "last_error": recognised_in(r["last_error"])}) for r in rows]


def get(rt: Runtime, actor: Actor, ref: str | int) -> Schedule:
    """One visible schedule by id or name (a name shared by several owners must be an id)."""
    found = list_schedules(rt, actor)
    text = str(ref).strip()
    hits = [s for s in found if str(s.id) == text] or [
        s for s in found if s.name.lower() == text.lower()
    ]
    if len(hits) > 1:
        raise ValidationError(say("msg.schedules.ambiguous", name=repr(text[:100])))
    if not hits:
        raise NotFound(say("msg.schedules.not_found", name=repr(text[:100])))
    return hits[0]


def _change(rt: Runtime, actor: Actor, ref: str | int, action: str, query: str, **kw: Any) -> None:
    schedule = get(rt, actor, ref)
    with rt.store.tx(actor.identity) as tx:
        row = tx.one(query, {"id": schedule.id, **kw})
        if row is None:  # visible (a project member) but not theirs
            raise PermissionDenied(say("msg.schedules.owner_change", name=repr(schedule.name)))
        audit.record_in(
            tx, actor, action, "ok", target=schedule.name, detail={"schedule_id": schedule.id}
        )


def pause(rt: Runtime, actor: Actor, ref: str | int) -> None:
    """Stop a schedule's runs until it is resumed (audited)."""
    _change(rt, actor, ref, "schedule.pause", "schedule_set_paused", paused=True, next_due_at=None)


def resume(rt: Runtime, actor: Actor, ref: str | int) -> None:
    """Resume a paused schedule from its next tick after now (no catch-up of the pause)."""
    schedule = get(rt, actor, ref)
    due = cron.next_after(schedule.cron, schedule.tz, datetime.now(UTC))
    _change(
        rt,
        actor,
        schedule.id,
        "schedule.resume",
        "schedule_set_paused",
        paused=False,
        next_due_at=due,
    )


def remove(rt: Runtime, actor: Actor, ref: str | int) -> None:
    """Delete a schedule and its history (audited)."""
    _change(rt, actor, ref, "schedule.remove", "schedule_delete")


def history(rt: Runtime, actor: Actor, ref: str | int, limit: int = 50) -> list[Run]:
    """The runs of a schedule, newest first."""
    schedule = get(rt, actor, ref)
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("schedule_runs_list", {"id": schedule.id, "limit": max(1, min(limit, 1000))})
    return [Run(**{**r, "error": recognised_in(r["error"])}) for r in rows]
