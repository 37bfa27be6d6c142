"""A script's immutable versions: read one, list them, compare two, revert to an old one.

Every save that changes a script's content appends a version (`scripts.save`, through
`scripts.append_version`); the database numbers it, hashes it and refuses to change it. This
module reads that history: `history` lists a script's versions newest first, `version` and
`version_in` read one (the latest by default), `diff` compares any two (unified and side by
side), and `revert` saves an old version's content as a new version, so history is never
rewritten. It is apart from `scripts` (creating, saving, renaming, deleting a script) because it
is the version history's own noun; it builds on `scripts` and nothing there calls back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import NotFound
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import diff as project_diff
from petcare_dba.services.projects import lifecycle
from petcare_dba.services.projects.diff import Row
from petcare_dba.services.projects.lifecycle import Project
from petcare_dba.services.projects.scripts import (
    SaveResult,
    Script,
    ScriptRef,
    append_version,
    audit_save,
    script_in,
    writable,
)
from petcare_dba.services.runtime import Runtime


@dataclass(frozen=True)
class Version:
    id: int
    script_id: int
    version: int
    content: str
    content_hash: str
    message: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Diff:
    old: Version
    new: Version
    unified: str
    rows: list[Row]
    added: int
    removed: int


def history(rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef) -> list[Version]:
    """Every version of a script, newest first."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        script = script_in(tx, project, ref)
        return [Version(**r) for r in tx.all("version_list", {"script_id": script.id})]


def version(
    rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef, number: int | None = None
) -> Version:
    """One version of a script (the latest when number is None)."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        return version_in(tx, project, script_in(tx, project, ref), number)


def version_in(tx: Any, project: Project, script: Script, number: int | None) -> Version:
    """Version `number` of a script (None: the current one) inside a transaction, or NotFound."""
    wanted = script.current_version if number is None else number
    row = tx.one("version_get", {"script_id": script.id, "version": wanted})
    if row is None:
        raise NotFound(
            say(
                "msg.scripts.no_version",
                script=repr(script.name),
                project=repr(project.name),
                version=wanted,
            ),
            hint=say("msg.scripts.no_version.hint", last=script.current_version),
        )
    return Version(**row)


def diff(
    rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef, old: int, new: int
) -> Diff:
    """The difference between two versions of a script (any order, any distance)."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        script = script_in(tx, project, ref)
        a, b = version_in(tx, project, script, old), version_in(tx, project, script, new)
    added, removed = project_diff.stats(a.content, b.content)
    return Diff(
        a,
        b,
        project_diff.unified(a.content, b.content, f"{script.name} v{a.version}", f"v{b.version}"),
        project_diff.side_by_side(a.content, b.content),
        added,
        removed,
    )


def revert(
    rt: Runtime,
    actor: Actor,
    project_ref: str | int,
    ref: ScriptRef,
    to_version: int,
    message: str | None = None,
    *,
    base_version: int | None = None,
) -> SaveResult:
    """Save the content of an old version as a new version (history is never rewritten)."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        writable(project)
        script = script_in(tx, project, ref)
        old = version_in(tx, project, script, to_version)
        text = message or f"Revert to v{to_version}"
        result = append_version(tx, project, script, old.content, text, base_version)
    audit_save(rt, actor, project, script.name, result, "script.revert")
    return result
