"""The SQL editor's own state and views: tabs kept per user, and plans read for drawing.

`tabs` stores the editor's tabs (name, SQL text, connection) per user under row level security;
`plans` reads a parsed EXPLAIN plan into a tree with hot nodes, row-estimate misses and a
comparison of two plans, as pure functions the UI draws.
"""

from __future__ import annotations

from petcare_dba.services.editor import (
    plans,
    tabs,
)

__all__ = ["plans", "tabs"]
