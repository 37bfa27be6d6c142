"""Declared settings: the advisor's partitioning thresholds (lint 0029, issue 18).

One part of the registry (`settings.registry` joins the parts). The older `advisor_*` thresholds
stay in `monitoring.py` beside the metrics they share; this part holds those added since, so
neither module outgrows the size the house keeps.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "advisor_partition_bytes",
        10 * 1024**3,
        "Size on disk (table, indexes and TOAST, in bytes) from which a table with a time "
        "column and a retention pattern is named as a partitioning candidate.",
        "advisor",
        int,
        bounds=(0, 1 << 50),
        runtime_editable=True,
    ),
    Setting(
        "advisor_partition_churn_pct",
        10.0,
        "Rows deleted (or dead) since the statistics were reset, in percent of the live rows, "
        "that make a large table's retention pattern (with advisor_partition_bytes): deleting "
        "old rows is what dropping a partition replaces.",
        "advisor",
        float,
        bounds=(0, 10000),
        runtime_editable=True,
    ),
)
