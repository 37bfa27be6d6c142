"""Who is acting: the signed-in user (or CLI actor) that services act for.

Every service call takes an `Actor`; its `identity` is what the metadata store sets per
transaction for row level security, and its fields are what the audit log records.
"""

from __future__ import annotations

from dataclasses import dataclass

from petcare_dba.db.metastore import Identity
from petcare_dba.errors import PermissionDenied
from petcare_dba.messages import say

ROLES = ("viewer", "analyst", "dba", "admin")


@dataclass(frozen=True)
class Actor:
    """A signed-in user as services see them."""

    user_id: int
    username: str
    role: str
    session_id: str = "cli"
    client_addr: str | None = None
    language: str | None = None
    display_name: str = ""

    @property
    def identity(self) -> Identity:
        return Identity(self.user_id, self.session_id)

    def at_least(self, role: str) -> bool:
        """True when this actor's role is `role` or above (viewer < analyst < dba < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: str, action: str) -> None:
        """Raise PermissionDenied unless the actor holds `role` or above; `action` names what was
        asked for (`say("msg.access.…")`, so the UI says it in the user's language)."""
        if not self.at_least(role):
            raise PermissionDenied(
                say("msg.access.needs_role", action=action, role=role, actual=self.role)
            )
