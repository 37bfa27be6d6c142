"""Declared settings: the SQL engine (per-role caps and limits), projects, the explorer and backups.

One part of the registry (`settings.registry` joins the parts); each entry is a `Setting`.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "statement_timeout_ms",
        30000,
        "SET LOCAL statement_timeout for user queries.",
        "engine",
        int,
    ),
    Setting("lock_timeout_ms", 5000, "SET LOCAL lock_timeout for user queries.", "engine", int),
    Setting(
        "idle_in_transaction_timeout_ms",
        300000,
        "SET LOCAL idle_in_transaction_session_timeout for explicit transactions.",
        "engine",
        int,
    ),
    Setting(
        "max_rows", 1000, "Rows kept from a result before it is marked truncated.", "engine", int
    ),
    Setting(
        "max_result_bytes",
        50 * 1024 * 1024,
        "Bytes kept from a result before it is cut.",
        "engine",
        int,
    ),
    Setting(
        "max_connections_per_user",
        3,
        "Concurrent target connections per user and stored connection.",
        "engine",
        int,
    ),
    Setting(
        "slot_linger_s",
        2.0,
        "Seconds a given-back connection slot stays with its instance for the user's next "
        "statement (no store round trip); the user's other instances wait at most this long.",
        "engine",
        float,
        bounds=(0.0, 60.0),
    ),
    *(
        Setting(
            f"export_max_rows_{role}",
            cap,
            f"Most rows one CSV/Parquet export of a {role} may write (it stops there).",
            "engine",
            int,
        )
        for role, cap in (
            ("viewer", 100_000),
            ("analyst", 1_000_000),
            ("dba", 10_000_000),
            ("admin", 10_000_000),
        )
    ),
    Setting(
        "export_statement_timeout_ms",
        600000,
        "statement_timeout of an export (it streams far more rows than the editor shows).",
        "engine",
        int,
    ),
    Setting(
        "target_keepalives_idle_s",
        30,
        "TCP keepalives_idle of target connections: seconds of silence before the first probe.",
        "engine",
        int,
    ),
    Setting(
        "target_keepalives_interval_s",
        10,
        "TCP keepalives_interval of target connections (a dead peer is noticed after "
        "idle + interval x count seconds).",
        "engine",
        int,
    ),
    Setting(
        "target_keepalives_count",
        3,
        "TCP keepalives_count of target connections.",
        "engine",
        int,
    ),
    Setting(
        "projects_refresh_s",
        5,
        "Seconds between refreshes of the Projects page's edited-by line and new-version "
        "notices (0 turns the live refresh off).",
        "projects",
        int,
    ),
    Setting(
        "backup_dir",
        "",
        "Directory of the table backup store. Empty: <data_dir>/backups.",
        "backups",
    ),
    Setting(
        "backup_retention_days",
        30,
        "Days a table backup is kept before `backups prune` removes it (0: keep forever).",
        "backups",
        int,
    ),
    Setting(
        "explorer_cache_ttl_s",
        300,
        "Seconds the explorer keeps a connection's catalog before reading it again.",
        "explorer",
        int,
    ),
    Setting(
        "explorer_page_rows", 50, "Rows per page of the explorer's sample data.", "explorer", int
    ),
    *(
        Setting(
            f"temp_file_limit_mb_{role}",
            limit,
            f"SET LOCAL temp_file_limit of a {role}'s statements, in MB (0: the server's own). "
            "Needs superuser or GRANT SET ON PARAMETER temp_file_limit (PostgreSQL 15+) for "
            "the connection's login role; health and connection test say when it is missing.",
            "engine",
            int,
        )
        for role, limit in (("viewer", 512), ("analyst", 2048), ("dba", 0), ("admin", 0))
    ),
    *(
        Setting(
            f"work_mem_max_mb_{role}",
            limit,
            f"Ceiling of work_mem for a {role}'s statements, in MB (SET LOCAL to the lower of "
            "this and the session's value; 0: no ceiling).",
            "engine",
            int,
        )
        for role, limit in (("viewer", 64), ("analyst", 256), ("dba", 0), ("admin", 0))
    ),
    Setting(
        "import_max_bytes",
        20 * 1024 * 1024,
        "Project import: largest archive, compressed or uncompressed, in bytes.",
        "projects",
        int,
    ),
    Setting(
        "import_max_scripts", 500, "Project import: scripts per archive at most.", "projects", int
    ),
    Setting(
        "import_max_versions",
        2000,
        "Project import: versions per archive at most (one bounded transaction).",
        "projects",
        int,
    ),
    Setting(
        "imports_per_hour", 10, "Project imports per user per hour (0: no limit).", "projects", int
    ),
)
