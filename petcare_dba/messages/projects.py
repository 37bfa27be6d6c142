"""Messages of projects and their scripts: names, membership, who may write, versions and the
hourly import limit. Project, script and user names are quoted as the user wrote them."""

from __future__ import annotations

TEMPLATES = {
    "msg.projects.needs_name": "a project needs a name",
    "msg.projects.name_long": "a project name has at most {n} characters",
    "msg.projects.owned": "you already own a project named {name}",
    "msg.projects.no_id": "no project #{id} (or you are not a member)",
    "msg.projects.no_name": "no project named {name} (or you are not a member)",
    "msg.projects.no_name.hint": "petcare-dba project list",
    "msg.projects.ambiguous": "several projects are named {name}: {ids}",
    "msg.projects.ambiguous.hint": "use #id",
    "msg.projects.owner_only": "only the owner of {name} (or an admin) may do this",
    "msg.projects.owner_only.hint": "ask the owner",
    "msg.projects.archive_first": "archive {name} before deleting it",
    "msg.projects.no_user": "no enabled user named {name}",
    "msg.projects.no_user.hint": "invite existing users only",
    "msg.projects.member_role": "role must be one of {choices}",
    "msg.projects.member_role.hint": "to hand over a project use transfer ownership",
    "msg.projects.already_member": "{user} is already a member of {name}",
    "msg.projects.owner_role": "the owner's role changes only by transferring ownership",
    "msg.projects.cannot_change_role": "cannot change {user}'s role in {name}",
    "msg.projects.owner_stays": "the owner cannot leave: transfer ownership first",
    "msg.projects.cannot_remove": "cannot remove {user} from {name}",
    "msg.projects.already_owner": "{user} already owns {name}",
    "msg.projects.imports_limit": "you have imported {n} projects in the last hour; "
    "imports_per_hour is {limit}",
    "msg.projects.imports_limit.hint": "try again later, or ask an admin to raise imports_per_hour",
    "msg.projects.no_default_connection": "{script} has no default connection: choose one",
    "msg.scripts.edit_conflict": "{script} changed since v{base}: v{current} was saved by "
    "{author}; nothing was saved",
    "msg.scripts.name": "a script name has 1 to 200 characters",
    "msg.scripts.no_id": "no script #{id} in {project}",
    "msg.scripts.no_name": "no script named {name} in {project}",
    "msg.scripts.no_deleted": "no deleted script named {name} in {project}",
    "msg.scripts.archived": "{project} is archived: its scripts are read-only",
    "msg.scripts.read_only": "you may read {project} but not write it (role: {role})",
    "msg.scripts.no_connection": "no connection named {name} (or it is not shared with you)",
    "msg.scripts.empty": "a script version needs some SQL",
    "msg.scripts.cannot_write": "cannot write {script} in {project}",
    "msg.scripts.no_version": "{script} in {project} has no version {version}",
    "msg.scripts.no_version.hint": "versions are 1..{last}",
    "msg.scripts.cannot_change": "cannot change {script}",
    "msg.scripts.live_exists": "a live script named {script} exists in {project}",
    "msg.scripts.live_exists.hint": "rename it first, then restore",
}
