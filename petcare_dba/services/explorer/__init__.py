"""The database explorer: discovery, search, table detail with DDL, samples, completions.

The face hands on the explorer's functions (`explorer.discover`, `explorer.describe`, …) and the
editor's `completions`.
"""

from __future__ import annotations

from petcare_dba.services.explorer import (
    completions,
)
from petcare_dba.services.explorer.browse import (
    OPERATORS,
    TableDetail,
    describe,
    discover,
    guards,
    invalidate,
    neighbourhood_dot,
    sample,
    split_name,
)
from petcare_dba.services.explorer.catalog import (
    KINDS,
    Catalog,
    Extension,
    Function,
    Relation,
    SearchHit,
)

__all__ = [
    "KINDS",
    "OPERATORS",
    "Catalog",
    "Extension",
    "Function",
    "Relation",
    "SearchHit",
    "TableDetail",
    "completions",
    "describe",
    "discover",
    "guards",
    "invalidate",
    "neighbourhood_dot",
    "sample",
    "split_name",
]
