"""Stored target connections: register, seal, test, resolve, and the per-user cap.

The face hands on the connection functions (`connections.add`, `connections.held`, …) and the
sub-areas `slots`, `privileges` (what a login role can do), `demo` and `workload` (the demo's
simulated clinic).
"""

from __future__ import annotations

from petcare_dba.services.connections import (
    demo,
    slots,
    workload,
)
from petcare_dba.services.connections.credentials import (
    PRIMARY,
    READ_ONLY,
    Target,
    credential_for,
    for_run,
    forget_lookups,
    held,
    resolve_for,
    resolve_read_url,
    resolve_url,
)
from petcare_dba.services.connections.store import (
    URL_ROLE,
    Connection,
    ConnectionCheck,
    add,
    check,
    get,
    has_password,
    list_connections,
    remove,
    set_flags,
    set_read_credential,
)

__all__ = [
    "PRIMARY",
    "READ_ONLY",
    "URL_ROLE",
    "Connection",
    "ConnectionCheck",
    "Target",
    "add",
    "check",
    "credential_for",
    "demo",
    "for_run",
    "forget_lookups",
    "get",
    "has_password",
    "held",
    "list_connections",
    "remove",
    "resolve_for",
    "resolve_read_url",
    "resolve_url",
    "set_flags",
    "set_read_credential",
    "slots",
    "workload",
]
