"""Statements read, judged and run safely: the editor's, the CLI's and the assistant's one engine.

The path of a statement: `intake` (size and encoding) → `parse` (PostgreSQL's own parser) →
`safety` (classify, decide per role) → `plan` → `execute` on a guarded target transaction →
`record` (history row and audit pair). `engine.run` drives it; `transaction`, `explain`, `export`
and `verdict` are the other entry points. Other domains use what this face hands on, nothing else.
"""

from __future__ import annotations

from petcare_dba.services.sql import engine, explain, export, plan, safety, trust, verdict, wrap
from petcare_dba.services.sql.engine import (
    CancelHandle,
    QueryResult,
    RunResult,
)
from petcare_dba.services.sql.explain import (
    ExplainResult,
)
from petcare_dba.services.sql.export import (
    ExportResult,
)
from petcare_dba.services.sql.safety import (
    Classification,
)
from petcare_dba.services.sql.transaction import (
    ExplicitTransaction,
)

__all__ = [
    "CancelHandle",
    "Classification",
    "ExplainResult",
    "ExplicitTransaction",
    "ExportResult",
    "QueryResult",
    "RunResult",
    "engine",
    "explain",
    "export",
    "plan",
    "safety",
    "trust",
    "verdict",
    "wrap",
]
