"""Target databases (the ones users administer): URLs, guarded transactions, pools, COPY.

Every transaction on a target opens through one opener, `guards.guarded` (READ ONLY when asked,
timeouts, the pinned lexing settings, in the message that opens it), and reads call queries by
name only (`session`). The face hands on the URL helpers and the sub-areas as modules.
"""

from __future__ import annotations

from petcare_dba.db.target import (
    backup,
    backup_structure,
    backup_tree,
    dump,
    edit,
    executor,
    explorer,
    export,
    pipeline,
    transaction,
    values,
)
from petcare_dba.db.target.connect import (
    AMBIENT_ONLY,
    NO_CLIENT_FILE,
    NO_PASSFILE,
    application_name,
    connect,
    connect_kwargs,
    display_url,
    isolated,
    parse_url,
)
from petcare_dba.db.target.executor import (
    CancelHandle,
    Lease,
    Limits,
    Method,
)
from petcare_dba.db.target.pool import (
    Pools,
)
from petcare_dba.db.target.session import (
    TargetSession,
    backend_signal,
    execute_autocommit,
    overview,
    read,
    read_lint,
    sample_text,
    session,
    whatif_prepare,
)
from petcare_dba.db.target.slots import (
    Slots,
)

__all__ = [
    "AMBIENT_ONLY",
    "NO_CLIENT_FILE",
    "NO_PASSFILE",
    "CancelHandle",
    "Lease",
    "Limits",
    "Method",
    "Pools",
    "Slots",
    "TargetSession",
    "application_name",
    "backend_signal",
    "backup",
    "backup_structure",
    "backup_tree",
    "connect",
    "connect_kwargs",
    "display_url",
    "dump",
    "edit",
    "execute_autocommit",
    "executor",
    "explorer",
    "export",
    "isolated",
    "overview",
    "parse_url",
    "pipeline",
    "read",
    "read_lint",
    "sample_text",
    "session",
    "transaction",
    "values",
    "whatif_prepare",
]
