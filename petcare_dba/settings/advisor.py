"""Declared settings: the advisor's lint thresholds (each editable at run time, issue 19).

One part of the registry (`settings.registry` joins the parts, this one right after
`monitoring`); `monitoring_long_query_s`, which the metrics share, stays in `monitoring.py`.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "advisor_long_query_error_factor",
        10,
        "A long-running query (see monitoring_long_query_s) is an ERROR instead of a WARN "
        "once it has run this many times that long.",
        "advisor",
        int,
        bounds=(1, 1000),
        runtime_editable=True,
    ),
    Setting(
        "advisor_idle_transaction_s",
        60.0,
        "Seconds a session may sit idle inside an open transaction before the advisor reports it.",
        "advisor",
        float,
        bounds=(0, 604800),
        runtime_editable=True,
    ),
    Setting(
        "advisor_lock_wait_s",
        10.0,
        "Seconds a session may wait for a lock held by another before the advisor reports it.",
        "advisor",
        float,
        bounds=(0, 604800),
        runtime_editable=True,
    ),
    Setting(
        "advisor_connection_usage_pct",
        80.0,
        "Percent of the allowed connections (server or database limit) in use at which the "
        "advisor warns.",
        "advisor",
        float,
        bounds=(0, 100),
        runtime_editable=True,
    ),
    Setting(
        "advisor_xid_age",
        500_000_000,
        "Age of a table's oldest unfrozen transaction id at which the advisor warns of wraparound.",
        "advisor",
        int,
        bounds=(0, 2147483647),
        runtime_editable=True,
    ),
    Setting(
        "advisor_xid_age_error",
        1_500_000_000,
        "Age of a table's oldest unfrozen transaction id at which the wraparound finding is "
        "an ERROR.",
        "advisor",
        int,
        bounds=(0, 2147483647),
        runtime_editable=True,
    ),
    Setting(
        "advisor_sequence_used_pct",
        75.0,
        "Percent of a sequence's range (or of the integer column it feeds) used at which the "
        "advisor warns.",
        "advisor",
        float,
        bounds=(0, 100),
        runtime_editable=True,
    ),
    Setting(
        "advisor_sequence_error_pct",
        95.0,
        "Percent of a sequence's range used at which the overflow finding is an ERROR.",
        "advisor",
        float,
        bounds=(0, 100),
        runtime_editable=True,
    ),
    Setting(
        "advisor_unused_index_bytes",
        1024 * 1024,
        "Smallest never-scanned index, in bytes, the advisor reports as unused.",
        "advisor",
        int,
        bounds=(0, 1 << 40),
        runtime_editable=True,
    ),
    Setting(
        "advisor_slow_query_ms",
        100.0,
        "Mean execution time in ms above which a pg_stat_statements entry is a slow query.",
        "advisor",
        float,
        bounds=(0, 86400000),
        runtime_editable=True,
    ),
    Setting(
        "advisor_slow_query_calls",
        100,
        "Calls a statement needs before its mean time counts for the slow-query lint.",
        "advisor",
        int,
        bounds=(1, 10**12),
        runtime_editable=True,
    ),
    Setting(
        "advisor_cache_hit_pct",
        99.0,
        "Percent of table or index block reads served from shared buffers below which the "
        "advisor warns.",
        "advisor",
        float,
        bounds=(0, 100),
        runtime_editable=True,
    ),
    Setting(
        "advisor_cache_min_blocks",
        10_000,
        "Block reads needed before the cache hit rate is judged.",
        "advisor",
        int,
        bounds=(0, 10**12),
        runtime_editable=True,
    ),
    Setting(
        "advisor_bloat_pct",
        50.0,
        "Estimated free space, in percent of a table, at which the advisor reports bloat "
        "(with advisor_bloat_bytes).",
        "advisor",
        float,
        bounds=(0, 100),
        runtime_editable=True,
    ),
    Setting(
        "advisor_bloat_bytes",
        10 * 1024 * 1024,
        "Estimated free space, in bytes, a table needs before the advisor reports bloat (with "
        "advisor_bloat_pct).",
        "advisor",
        int,
        bounds=(0, 1 << 40),
        runtime_editable=True,
    ),
    Setting(
        "advisor_dead_rows",
        10_000,
        "Dead rows a table needs before the advisor says it needs vacuum (with advisor_dead_pct).",
        "advisor",
        int,
        bounds=(0, 10**12),
        runtime_editable=True,
    ),
    Setting(
        "advisor_dead_pct",
        20.0,
        "Dead rows, in percent of the live rows, beyond which a table needs vacuum (with "
        "advisor_dead_rows).",
        "advisor",
        float,
        bounds=(0, 10000),
        runtime_editable=True,
    ),
    Setting(
        "advisor_analyze_rows",
        1000,
        "Rows a never-analyzed table needs before the advisor reports it.",
        "advisor",
        int,
        bounds=(0, 10**12),
        runtime_editable=True,
    ),
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
