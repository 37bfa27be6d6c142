"""SQL projects (seed table `projetos_analytics`): lifecycle, members and ownership.

A project is seen by its owner, its members and admins; that rule and every write rule live in
row level security (migrations 0002 and 0005), so these functions only shape calls and turn
"no row came back" into NotFound/PermissionDenied. Owners rename, describe, archive, delete
(archived projects only), manage members and transfer ownership; members may leave. Admins may
list and open every project; doing so outside their own projects is audited. Every change is
audited. Scripts and versions are in `services.scripts`, runs in `services.project_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import NotFound, PermissionDenied, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

ROLES = ("owner", "editor", "viewer")
MEMBER_ROLES = ("editor", "viewer")  # the owner role only moves through transfer()
NAME_MAX = 200


@dataclass(frozen=True)
class Project:
    """A project as the current user sees it (my_role None: an admin looking in)."""

    id: int
    name: str
    description: str
    status: str
    created_by: str
    owner: str
    owner_id: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    membros: list[str]
    scripts: int
    my_role: str | None

    @property
    def can_manage(self) -> bool:
        return self.my_role == "owner"

    @property
    def can_write(self) -> bool:
        return self.my_role in ("owner", "editor") and self.status == "active"


@dataclass(frozen=True)
class Member:
    username: str
    display_name: str
    role: str
    added_at: datetime
    added_by: str | None


@dataclass(frozen=True)
class Activity:
    """The latest change in a project, for "edited by X, N minutes ago"."""

    at: datetime
    username: str | None
    what: str
    version: int | None


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError(say("msg.projects.needs_name"))
    if len(name) > NAME_MAX:
        raise ValidationError(say("msg.projects.name_long", n=NAME_MAX))
    return name


def _like(search: str | None) -> str | None:
    if not search or not search.strip():
        return None
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def create(rt: Runtime, actor: Actor, name: str, description: str = "") -> int:
    """Create a project owned by the actor, who becomes its owner member."""
    with rt.store.tx(actor.identity) as tx:
        project_id = create_in(tx, actor, name, description)
    audit.record(
        rt.store, actor, "project.create", "ok", target=name, detail={"project_id": project_id}
    )
    return project_id


CREATE_ROLE = "analyst"  # viewers open what is shared with them; they do not author SQL


def create_in(tx: Any, actor: Actor, name: str, description: str = "") -> int:
    """Create a project inside an open transaction (the caller audits)."""
    actor.require(CREATE_ROLE, say("msg.access.creating_project"))
    name = _name(name)
    if any(p.owner_id == actor.user_id for p in _by_name(tx, name)):
        raise ValidationError(say("msg.projects.owned", name=repr(name)))
    project_id = int(
        tx.value(
            "project_insert",
            {
                "name": name,
                "description": description,
                "username": actor.username,
                "user_id": actor.user_id,
            },
        )
    )
    tx.execute("project_add_owner", {"project_id": project_id, "user_id": actor.user_id})
    return project_id


def _by_name(tx: Any, name: str) -> list[Project]:
    ids = [int(r["id"]) for r in tx.all("project_find", {"name": name})]
    return [Project(**tx.one("project_get", {"project_id": i})) for i in ids]


def list_projects(
    rt: Runtime,
    actor: Actor,
    search: str | None = None,
    *,
    all_projects: bool = False,
    archived: bool = True,
    limit: int = 500,
) -> list[Project]:
    """The actor's projects ("my projects"); admins may ask for every project (audited)."""
    if all_projects:
        actor.require("admin", say("msg.access.listing_every_project"))
    params = {"all": all_projects, "archived": archived, "search": _like(search), "limit": limit}
    with rt.store.tx(actor.identity) as tx:
        rows = [Project(**r) for r in tx.all("project_list", params)]
    if all_projects:
        audit.record(
            rt.store, actor, "project.admin_list", "ok", detail={"search": search, "n": len(rows)}
        )
    return rows


def get(rt: Runtime, actor: Actor, ref: str | int) -> Project:
    """One visible project by id, `#id` or name; an admin opening someone's project is audited."""
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
    if project.my_role is None:
        audit.record(
            rt.store,
            actor,
            "project.admin_view",
            "ok",
            target=project.name,
            detail={"project_id": project.id},
        )
    return project


def resolve_in(tx: Any, ref: str | int) -> Project:
    """The project `ref` names (id, `#id` or name) inside an open transaction."""
    text = str(ref).strip()
    if text.lstrip("#").isdigit():
        row = tx.one("project_get", {"project_id": int(text.lstrip("#"))})
        if row is not None:
            return Project(**row)
        if text.startswith("#") or isinstance(ref, int):
            raise NotFound(say("msg.projects.no_id", id=text.lstrip("#")))
    found = _by_name(tx, text)
    if not found:
        raise NotFound(
            say("msg.projects.no_name", name=repr(text)), hint=say("msg.projects.no_name.hint")
        )
    mine = [p for p in found if p.my_role is not None]
    if len(mine) > 1 or (not mine and len(found) > 1):
        ids = ", ".join(f"#{p.id} (owner {p.owner})" for p in found)
        raise ValidationError(
            say("msg.projects.ambiguous", name=repr(text), ids=ids),
            hint=say("msg.projects.ambiguous.hint"),
        )
    return mine[0] if mine else found[0]


def _change(rt: Runtime, actor: Actor, ref: str | int, query: str, **params: Any) -> Project:
    """Run one owner-only UPDATE/DELETE on a project; no row back means not allowed."""
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        if tx.value(query, {"project_id": project.id, **params}) is None:
            raise PermissionDenied(
                say("msg.projects.owner_only", name=repr(project.name)),
                hint=say("msg.projects.owner_only.hint") if project.my_role else None,
            )
    return project


def rename(rt: Runtime, actor: Actor, ref: str | int, new_name: str) -> None:
    """Rename a project (owner or admin)."""
    new_name = _name(new_name)
    project = _change(rt, actor, ref, "project_rename", name=new_name)
    audit.record(
        rt.store,
        actor,
        "project.rename",
        "ok",
        target=new_name,
        detail={"project_id": project.id, "old": project.name},
    )


def describe(rt: Runtime, actor: Actor, ref: str | int, description: str) -> None:
    """Change a project's description (owner or admin)."""
    project = _change(rt, actor, ref, "project_describe", description=description)
    audit.record(
        rt.store,
        actor,
        "project.describe",
        "ok",
        target=project.name,
        detail={"project_id": project.id},
    )


def archive(rt: Runtime, actor: Actor, ref: str | int, archived: bool = True) -> None:
    """Archive a project (read-only for scripts) or make it active again."""
    status = "archived" if archived else "active"
    project = _change(rt, actor, ref, "project_set_status", status=status)
    action = "project.archive" if archived else "project.unarchive"
    audit.record(rt.store, actor, action, "ok", target=project.name, detail={"id": project.id})


def delete(rt: Runtime, actor: Actor, ref: str | int) -> None:
    """Delete an archived project with its scripts and versions (owner or admin)."""
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
    if project.status != "archived":
        raise ValidationError(
            say("msg.projects.archive_first", name=repr(project.name)),
            hint="petcare-dba project archive",  # a command: the same in any language
        )
    _change(rt, actor, project.id, "project_delete")
    audit.record(
        rt.store,
        actor,
        "project.delete",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "scripts": project.scripts},
    )


def members(rt: Runtime, actor: Actor, ref: str | int) -> list[Member]:
    """The members of a project, owner first."""
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        return [Member(**r) for r in tx.all("project_member_list", {"project_id": project.id})]


def _user_id(tx: Any, username: str) -> int:
    value = tx.value("project_user_id", {"username": username.strip()})
    if value is None:
        raise NotFound(
            say("msg.projects.no_user", name=repr(username)), hint=say("msg.projects.no_user.hint")
        )
    return int(value)


def add_member(rt: Runtime, actor: Actor, ref: str | int, username: str, role: str) -> None:
    """Invite an existing user with a role (editor or viewer); owner or admin only."""
    if role not in MEMBER_ROLES:
        raise ValidationError(
            say("msg.projects.member_role", choices=", ".join(MEMBER_ROLES)),
            hint=say("msg.projects.member_role.hint"),
        )
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        user_id = _user_id(tx, username)
        params = {"project_id": project.id, "user_id": user_id, "role": role}
        if tx.value("project_member_add", params) is None:
            raise ValidationError(
                say("msg.projects.already_member", user=username, name=repr(project.name))
            )
    audit.record(
        rt.store,
        actor,
        "project.member_add",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "user": username, "role": role},
    )


def set_member_role(rt: Runtime, actor: Actor, ref: str | int, username: str, role: str) -> None:
    """Change a member's role between editor and viewer; owner or admin only."""
    if role not in MEMBER_ROLES:
        raise ValidationError(say("msg.projects.member_role", choices=", ".join(MEMBER_ROLES)))
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        user_id = _user_id(tx, username)
        if user_id == project.owner_id:
            raise ValidationError(say("msg.projects.owner_role"))
        params = {"project_id": project.id, "user_id": user_id, "role": role}
        if tx.value("project_member_set_role", params) is None:
            raise PermissionDenied(
                say("msg.projects.cannot_change_role", user=username, name=repr(project.name))
            )
    audit.record(
        rt.store,
        actor,
        "project.member_role",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "user": username, "role": role},
    )


def remove_member(rt: Runtime, actor: Actor, ref: str | int, username: str) -> None:
    """Remove a member (owner or admin), or leave a project (any member, not the owner)."""
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        user_id = _user_id(tx, username)
        if user_id == project.owner_id:
            raise ValidationError(say("msg.projects.owner_stays"))
        params = {"project_id": project.id, "user_id": user_id}
        if tx.value("project_member_remove", params) is None:
            raise PermissionDenied(
                say("msg.projects.cannot_remove", user=username, name=repr(project.name))
            )
    audit.record(
        rt.store,
        actor,
        "project.member_remove",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "user": username},
    )


def transfer(rt: Runtime, actor: Actor, ref: str | int, username: str) -> None:
    """Hand a project to another user; the old owner stays as an editor.

    Three statements in one transaction, in the order the policies allow: promote the new owner
    (added if not yet a member), demote the old one, move owner_id. The database checks at
    commit that exactly one owner member remains and that it is owner_id.
    """
    with rt.store.tx(actor.identity) as tx:
        project = resolve_in(tx, ref)
        new_id = _user_id(tx, username)
        old_id = project.owner_id
        if new_id == old_id:
            raise ValidationError(
                say("msg.projects.already_owner", user=username, name=repr(project.name))
            )
        params = {"project_id": project.id, "user_id": new_id, "role": "owner"}
        if tx.value("project_member_set_role", params) is None:
            tx.value("project_member_add", params)
        demote = {"project_id": project.id, "user_id": old_id, "role": "editor"}
        changed = tx.value("project_member_set_role", demote) is not None
        if not changed or tx.value("project_set_owner", params) is None:
            raise PermissionDenied(say("msg.projects.owner_only", name=repr(project.name)))
    audit.record(
        rt.store,
        actor,
        "project.transfer",
        "ok",
        target=project.name,
        detail={"project_id": project.id, "from": project.owner, "to": username},
    )


def activity(rt: Runtime, actor: Actor, project_id: int) -> Activity | None:
    """The latest change in a project (cheap: polled by the page every few seconds)."""
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("project_activity", {"project_id": project_id})
    return Activity(**row) if row else None
