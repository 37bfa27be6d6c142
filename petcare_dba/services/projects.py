"""SQL projects (seed table `projetos_analytics`): create and list, visibility by RLS.

Versioned scripts, members, runs and collaboration arrive with the projects issue; this module is
their home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petcare_dba.errors import ValidationError
from petcare_dba.services import audit
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    description: str
    status: str
    created_by: str
    updated_at: datetime
    scripts: int
    my_role: str | None


def create(rt: Runtime, actor: Actor, name: str, description: str = "") -> int:
    """Create a project owned by the actor, who becomes its owner member."""
    name = name.strip()
    if not name:
        raise ValidationError("a project needs a name")
    with rt.store.tx(actor.identity) as tx:
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
    audit.record(
        rt.store, actor, "project.create", "ok", target=name, detail={"project_id": project_id}
    )
    return project_id


def list_projects(rt: Runtime, actor: Actor, search: str | None = None) -> list[Project]:
    """Projects the actor may see (owner, member, or admin)."""
    with rt.store.tx(actor.identity) as tx:
        return [Project(**r) for r in tx.all("project_list", {"search": search or None})]
