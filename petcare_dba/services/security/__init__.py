"""Who may do what, and the record of it: sign-in, users, sessions, audit, keys, crypto.

The face hands on each sub-area as a module (`auth`, `users`, `audit`, `keys`, …).
"""

from __future__ import annotations

from petcare_dba.services.security import (
    audit,
    audit_export,
    auth,
    handoff,
    keys,
    oidc,
    passwords,
    totp,
    users,
)

__all__ = [
    "audit",
    "audit_export",
    "auth",
    "handoff",
    "keys",
    "oidc",
    "passwords",
    "totp",
    "users",
]
