"""Statements read, judged and run safely: the editor's, the CLI's and the assistant's one engine.

The path of a statement, one way: `engine.run` hands the text to `intake` (size and encoding),
then `plan` (split with PostgreSQL's parser in `parse`, classify in `safety`, decide per role in
`decide`, choose how each statement runs), then `execute` on a guarded target transaction, which
writes each statement's history row and audit pair through `record`. A module imports and calls
only modules below it (tests/test_statement_path.py). `transaction`, `explain`, `export`,
`verdict` and `table_edit` (the grid's inline edits, through `engine.run`) are the other entry
points; all of them take the one front half, `front` (lookup, text check, decisions, credential,
lease: tests/sql/test_one_front.py), and `cached` serves the opt-in result cache inside
`engine.run`. Other domains use what this face hands on, nothing else.
"""

from __future__ import annotations

from petcare_dba.services.sql import (
    engine,
    explain,
    export,
    plan,
    safety,
    table_edit,
    trust,
    values,
    verdict,
    wrap,
)
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
    "table_edit",
    "trust",
    "values",
    "verdict",
    "wrap",
]
