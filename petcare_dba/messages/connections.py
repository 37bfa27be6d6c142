"""Messages of stored connections: names, visibility, and the refusal of a read path whose only
credential is over-privileged (who asked, and what the login role may do)."""

from __future__ import annotations

TEMPLATES = {
    "msg.connections.bad_name": "connection name {name} must be lowercase letters, digits, - or _",
    "msg.connections.exists": "a connection named {name} already exists",
    "msg.connections.not_yours": "no connection named {name} that you may change",
    "msg.connections.not_yours_to_delete": "no connection named {name} that you may delete",
    "msg.connections.unknown": "no connection named {name}",
    "msg.connections.not_shared": "no connection named {name} (or it is not shared with you)",
    "msg.connections.not_shared.hint": "petcare-dba connection list",
    "msg.connections.over_privileged": "connection {name} has no least-privilege credential for "
    "{who}: its login role {role} {problems}",
    "msg.connections.over_privileged.hint": "an admin adds a read-only role and registers it with "
    "`petcare-dba connection set-read {name}` (or on the Connections page); for example, on the "
    "target:\n{sql}",
    "msg.connections.who.viewers": "viewers",
    "msg.connections.who.read_only": "read-only connections",
    "msg.connections.who.assistant": "the assistant",
    "msg.connections.problem.superuser": "is a superuser",
    "msg.connections.problem.attribute": "has {attribute}",
    "msg.connections.problem.member": "is a member of {roles}",
    "msg.connections.problem.stats": "is a member of {roles} (statistics not allowed)",
    "msg.connections.problem.writes": "may write {n} table(s) ({sample})",
    "msg.connections.problem.files": "may call {functions}",
}
