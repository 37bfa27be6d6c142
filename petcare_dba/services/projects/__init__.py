"""SQL projects: lifecycle and members, scripts with immutable versions, runs, zip bundles.

The face hands on the project functions themselves (`projects.create`, `projects.get`, …) and the
sub-areas as modules (`scripts`, `runs`, `bundle`).
"""

from __future__ import annotations

from petcare_dba.services.projects import (
    bundle,
    runs,
    scripts,
    versions,
)
from petcare_dba.services.projects.lifecycle import (
    CREATE_ROLE,
    MEMBER_ROLES,
    NAME_MAX,
    ROLES,
    Activity,
    Member,
    Project,
    activity,
    add_member,
    archive,
    create,
    create_in,
    delete,
    describe,
    get,
    list_projects,
    members,
    remove_member,
    rename,
    resolve_in,
    set_member_role,
    transfer,
)
from petcare_dba.services.projects.scripts import (
    Script,
)

__all__ = [
    "CREATE_ROLE",
    "MEMBER_ROLES",
    "NAME_MAX",
    "ROLES",
    "Activity",
    "Member",
    "Project",
    "Script",
    "activity",
    "add_member",
    "archive",
    "bundle",
    "create",
    "create_in",
    "delete",
    "describe",
    "get",
    "list_projects",
    "members",
    "remove_member",
    "rename",
    "resolve_in",
    "runs",
    "scripts",
    "set_member_role",
    "transfer",
    "versions",
]
