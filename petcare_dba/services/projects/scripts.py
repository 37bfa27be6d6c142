"""Scripts of a project: create and save, rename and retag, soft delete and restore.

Every save that changes the content appends a version; the database numbers it (latest + 1,
under a lock on the script row), hashes it (sha256) and timestamps it, and refuses updates and
deletes of versions. Saving is optimistic: the caller passes the version it started from
(`base_version`); when someone has saved since, nothing is written and `EditConflict` carries
the diff from the latest version to the caller's text so the user can choose. Reading the
versions (history, one version, a diff) and reverting to one live in `versions`. Deleting a
script is a soft delete; restore undoes it. Access (viewers read, owners and editors of active
projects write) is row level security.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import EditConflict, NotFound, PermissionDenied, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import intake
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import diff as project_diff
from petcare_dba.services.projects import lifecycle
from petcare_dba.services.projects.lifecycle import Project
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

ScriptRef = str | int  # a live script's name, or a script id (deleted ones too)


@dataclass(frozen=True)
class Script:
    id: int
    project_id: int
    name: str
    description: str
    tags: list[str]
    default_connection: str | None
    current_version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    deleted_at: datetime | None
    content_hash: str | None
    version_at: datetime | None
    version_author: str | None


@dataclass(frozen=True)
class SaveResult:
    """What a save did; created False means the content equalled the latest version."""

    script_id: int
    version: int
    created: bool
    new_script: bool = False


def clean_tags(tags: list[str] | str | None) -> list[str]:
    """Tags from a list or a comma-separated string: trimmed, lower-cased, unique, sorted."""
    if tags is None:
        return []
    items = tags.split(",") if isinstance(tags, str) else tags
    return sorted({t.strip().lower() for t in items if t and t.strip()})


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError(say("msg.scripts.name"))
    return name


def script_in(tx: Any, project: Project, ref: ScriptRef, *, deleted: bool = False) -> Script:
    """The live script named `ref` (or a deleted one when asked), or the script with id `ref`."""
    if isinstance(ref, int):
        row = tx.one("script_get", {"script_id": ref})
        if row is None or row["project_id"] != project.id:
            raise NotFound(say("msg.scripts.no_id", id=str(ref), project=repr(project.name)))
        return Script(**row)
    for found in tx.all("script_find", {"project_id": project.id, "name": ref.strip()}):
        if found["deleted"] == deleted:
            return Script(**tx.one("script_get", {"script_id": found["id"]}))
    missing = "msg.scripts.no_deleted" if deleted else "msg.scripts.no_name"
    raise NotFound(say(missing, name=repr(ref), project=repr(project.name)))


def writable(project: Project) -> None:
    """A clear message before the database's refusal (which stays the real guard)."""
    if project.status != "active":
        raise PermissionDenied(say("msg.scripts.archived", project=repr(project.name)))
    if project.my_role not in ("owner", "editor"):
        role = project.my_role or "none"
        raise PermissionDenied(say("msg.scripts.read_only", project=repr(project.name), role=role))


def _connection_id(tx: Any, name: str | None) -> int | None:
    if not name:
        return None
    value = tx.value("script_connection_id", {"name": name})
    if value is None:
        raise NotFound(say("msg.scripts.no_connection", name=repr(name)))
    return int(value)


def list_scripts(
    rt: Runtime, actor: Actor, project_ref: str | int, *, deleted: bool = False
) -> list[Script]:
    """The scripts of a project (or its soft-deleted ones), by name."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        rows = tx.all("script_list", {"project_id": project.id, "deleted": deleted})
    return [Script(**r) for r in rows]


def get(rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef) -> Script:
    """One script of a project."""
    with rt.store.tx(actor.identity) as tx:
        return script_in(tx, lifecycle.resolve_in(tx, project_ref), ref)


def save(
    rt: Runtime,
    actor: Actor,
    project_ref: str | int,
    name: ScriptRef,
    content: str,
    message: str = "",
    *,
    base_version: int | None = None,
    description: str | None = None,
    tags: list[str] | str | None = None,
    default_connection: str | None = None,
) -> SaveResult:
    """Save content as the next version of a script (creating the script on first save).

    `base_version` is the version the text was edited from; None saves on top of the latest
    without a check (the CLI's default). On a stale base nothing is written: EditConflict.
    """
    intake.check(content, rt.settings, what=say("msg.sql.what.script"))
    if not content.strip():
        raise ValidationError(say("msg.scripts.empty"))
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        writable(project)
        try:
            script = script_in(tx, project, name)
        except NotFound:
            if isinstance(name, int) or base_version:
                raise
            script_id = int(
                tx.value(
                    "script_insert",
                    {
                        "project_id": project.id,
                        "name": _name(name),
                        "description": description or "",
                        "tags": clean_tags(tags),
                        "connection_id": _connection_id(tx, default_connection),
                    },
                )
            )
            params = {"script_id": script_id, "version": 1, "content": content, "message": message}
            tx.one("version_insert", params)
            result = SaveResult(script_id, 1, True, True)
        else:
            result = append_version(tx, project, script, content, message, base_version)
            if description is not None or tags is not None or default_connection is not None:
                _update_meta(tx, script, None, description, tags, default_connection)
    audit_save(rt, actor, project, str(name), result, "script.save")
    return result


def append_version(
    tx: Any, project: Project, script: Script, content: str, message: str, base: int | None
) -> SaveResult:
    """Append `content` as the script's next version (under the row lock), unless unchanged.

    `base` is the version the caller edited from; a stale one raises EditConflict (save and
    revert, in `versions`, both append through here).
    """
    current = tx.value("script_lock", {"script_id": script.id})
    if current is None:
        raise PermissionDenied(
            say("msg.scripts.cannot_write", script=repr(script.name), project=repr(project.name))
        )
    latest = tx.one("version_get", {"script_id": script.id, "version": current})
    if base is not None and base != current:
        theirs = latest["content"] if latest else ""
        raise EditConflict(
            say(
                "msg.scripts.edit_conflict",
                script=repr(script.name),
                base=base,
                current=current,
                author=latest["author"] if latest else "?",
            ),
            base_version=base,
            current_version=current,
            current_author=latest["author"] if latest else "",
            current_content=theirs,
            diff=project_diff.unified(theirs, content, f"v{current} (latest)", "yours"),
            hint="review the diff, then save on top of the latest version or discard yours",
        )
    if latest is not None and latest["content"] == content:
        return SaveResult(script.id, current, False)
    params = {
        "script_id": script.id,
        "version": current + 1,
        "content": content,
        "message": message,
    }
    row = tx.one("version_insert", params)
    return SaveResult(script.id, int(row["version"]), True)


def audit_save(
    rt: Runtime, actor: Actor, project: Project, name: str, result: SaveResult, action: str
) -> None:
    """Audit a save or revert that wrote a version (an unchanged save is not an event)."""
    if result.created:
        audit.record(
            rt.store,
            actor,
            action,
            "ok",
            target=f"{project.name}/{name}",
            detail={
                "project_id": project.id,
                "script_id": result.script_id,
                "version": result.version,
                "new_script": result.new_script,
            },
        )


def _update_meta(
    tx: Any,
    script: Script,
    new_name: str | None,
    description: str | None,
    tags: list[str] | str | None,
    default_connection: str | None,
) -> None:
    """Change metadata; None keeps a field, '' clears the default connection."""
    params = {
        "script_id": script.id,
        "name": _name(new_name) if new_name else script.name,
        "description": script.description if description is None else description,
        "tags": script.tags if tags is None else clean_tags(tags),
        "keep_connection": default_connection is None,
        "connection_id": _connection_id(tx, default_connection),
    }
    if tx.value("script_update_meta", params) is None:
        raise PermissionDenied(say("msg.scripts.cannot_change", script=repr(script.name)))


def update(
    rt: Runtime,
    actor: Actor,
    project_ref: str | int,
    ref: ScriptRef,
    *,
    new_name: str | None = None,
    description: str | None = None,
    tags: list[str] | str | None = None,
    default_connection: str | None = None,
) -> None:
    """Rename a script or change its description, tags or default connection ('' clears it)."""
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        writable(project)
        script = script_in(tx, project, ref)
        _update_meta(tx, script, new_name, description, tags, default_connection)
    audit.record(
        rt.store,
        actor,
        "script.update",
        "ok",
        target=f"{project.name}/{script.name}",
        detail={"script_id": script.id, "new_name": new_name, "tags": tags},
    )


def delete(rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef) -> int:
    """Soft-delete a script (its versions and runs stay; restore brings it back)."""
    return _set_deleted(rt, actor, project_ref, ref, True)


def restore(rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef) -> int:
    """Restore a deleted script (by name: the most recently deleted one)."""
    return _set_deleted(rt, actor, project_ref, ref, False)


def _set_deleted(
    rt: Runtime, actor: Actor, project_ref: str | int, ref: ScriptRef, deleted: bool
) -> int:
    with rt.store.tx(actor.identity) as tx:
        project = lifecycle.resolve_in(tx, project_ref)
        writable(project)
        script = script_in(tx, project, ref, deleted=not deleted)
        if not deleted and any(
            not s["deleted"]
            for s in tx.all("script_find", {"project_id": project.id, "name": script.name})
        ):
            raise ValidationError(
                say(
                    "msg.scripts.live_exists", script=repr(script.name), project=repr(project.name)
                ),
                hint=say("msg.scripts.live_exists.hint"),
            )
        if tx.value("script_set_deleted", {"script_id": script.id, "deleted": deleted}) is None:
            raise PermissionDenied(say("msg.scripts.cannot_change", script=repr(script.name)))
    audit.record(
        rt.store,
        actor,
        "script.delete" if deleted else "script.restore",
        "ok",
        target=f"{project.name}/{script.name}",
        detail={"project_id": project.id, "script_id": script.id},
    )
    return script.id
