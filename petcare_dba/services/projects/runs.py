"""Running a project's script through the SQL engine, and the run history of scripts and versions.

`run_script` picks the version (latest or a chosen one) and the connection (chosen, else the
script's default) and hands the content to `engine.run` with `script_version_id` and
`project_id`, so every execucoes_scripts row the engine writes links the exact version. The
engine applies the user's app role (a viewer's run is read-only), classification, confirmation,
limits and audit; this module adds nothing to those rules. `runs` lists the history per script
or per version (who, when, where, how long, rows, outcome) for the table and the duration chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import lifecycle, scripts, versions
from petcare_dba.services.projects.scripts import Script, ScriptRef
from petcare_dba.services.projects.versions import Version
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import CancelHandle, RunResult, engine


@dataclass(frozen=True)
class Run:
    """One statement of one run of a script version."""

    id: int
    started_at: datetime
    username: str
    connection: str | None
    version: int
    statement_index: int
    outcome: str
    duration_ms: float | None
    rows_affected: int | None
    sqlstate: str | None
    message: str | None


@dataclass(frozen=True)
class ScriptRun:
    """What `run_script` ran, where, and the engine's result."""

    project_id: int
    script: Script
    version: Version
    connection: str
    result: RunResult


def run_script(
    rt: Runtime,
    actor: Actor,
    project_ref: str | int,
    ref: ScriptRef,
    *,
    version: int | None = None,
    connection: str | None = None,
    confirmed: bool = False,
    mode: str = "transaction",
    max_rows: int | None = None,
    handle: CancelHandle | None = None,
) -> ScriptRun:
    """Run a version of a script on a connection through the engine (audited there)."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        script = scripts.script_in(tx, project, ref)
        chosen = versions.version_in(tx, project, script, version)
    target = connection or script.default_connection
    if not target:
        raise ValidationError(
            say("msg.projects.no_default_connection", script=repr(script.name)),
            hint="--connection NAME",
        )
    result = engine.run(
        rt,
        actor,
        target,
        chosen.content,
        mode=mode,
        confirmed=confirmed,
        max_rows=max_rows,
        script_version_id=chosen.id,
        project_id=project.id,
        handle=handle,
    )
    return ScriptRun(project.id, script, chosen, target, result)


def runs(
    rt: Runtime,
    actor: Actor,
    project_ref: str | int,
    ref: ScriptRef,
    *,
    version: int | None = None,
    limit: int = 500,
) -> list[Run]:
    """Runs of a script (or of one of its versions), newest first.

    The engine writes outcomes after the response; the ones this runtime still holds land first.
    """
    rt.deferred.settle()
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        script = scripts.script_in(tx, project, ref)
        rows = tx.all(
            "script_runs", {"script_id": script.id, "version": version, "limit": int(limit)}
        )
    return [Run(**r) for r in rows]
