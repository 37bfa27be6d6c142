"""Declared settings: the collector, alerts, and the advisor's lint thresholds.

One part of the registry (`settings.registry` joins the parts); each entry is a `Setting`.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "monitoring_enabled",
        True,
        "Run the sampling and advisor jobs (with alert evaluation) in `petcare-dba worker` "
        "and `petcare-dba up` (each job leader-elected, so replicas sample once).",
        "monitoring",
        bool,
    ),
    Setting("monitoring_interval_s", 15, "Seconds between metric samples.", "monitoring", int),
    Setting(
        "jobs_in_up",
        True,
        "`petcare-dba up` runs the background jobs from its start (set false when a separate "
        "`petcare-dba worker` runs them; leases keep a job from running twice either way).",
        "jobs",
        bool,
    ),
    Setting(
        "jobs_lease_s",
        30.0,
        "Seconds a job's leader holds its lease without renewing it (renewed every third): "
        "when a leader dies, another instance takes the job over after at most this long.",
        "jobs",
        float,
        bounds=(0.5, 3600),
    ),
    Setting(
        "jobs_reconcile_interval_s",
        60,
        "Seconds between runs of the reconcile job (orphaned audit intents become 'unknown', "
        "stalled backups 'failed').",
        "jobs",
        int,
        bounds=(1, 86400),
    ),
    Setting(
        "jobs_chain_check_interval_s",
        3600,
        "Seconds between full checks of the audit hash chain (alert 'audit-chain-break').",
        "jobs",
        int,
        bounds=(1, 604800),
    ),
    Setting(
        "jobs_retention_interval_s",
        300,
        "Seconds between runs of the retention job (rollups, retention of samples, alert "
        "history, advisor runs and job runs).",
        "jobs",
        int,
        bounds=(1, 86400),
    ),
    Setting(
        "jobs_runs_retention_days",
        7,
        "Days the record of each job run (health, metrics) is kept.",
        "jobs",
        int,
        bounds=(1, 3650),
    ),
    Setting(
        "schedules_poll_s",
        15,
        "Seconds between the schedules job's looks for due schedules (backups, project scripts, "
        "advisor runs); a schedule runs at most this late.",
        "jobs",
        int,
        bounds=(1, 3600),
    ),
    Setting(
        "schedule_runs_keep",
        100,
        "Runs kept in each schedule's history (older ones are dropped after each run).",
        "jobs",
        int,
        bounds=(1, 10000),
    ),
    Setting(
        "shutdown_timeout_s",
        20.0,
        "Seconds `up` and `worker` take at most to stop after SIGTERM or SIGINT: stop serving, "
        "cancel running statements (audited 'cancelled'), stop the jobs and the embedded server.",
        "jobs",
        float,
        bounds=(1, 600),
    ),
    Setting(
        "monitoring_long_query_s",
        60,
        "Seconds after which an active query counts as long-running (metrics, alerts and the "
        "advisor's long_running_queries lint).",
        "monitoring",
        int,
        bounds=(0, 604800),
        runtime_editable=True,
    ),
    Setting(
        "monitoring_top_statements",
        100,
        "pg_stat_statements entries (by total time) snapshotted per sample for deltas.",
        "monitoring",
        int,
    ),
    Setting(
        "monitoring_raw_retention_hours",
        48,
        "Hours raw samples are kept; older ones survive only as 5-minute averages.",
        "monitoring",
        int,
        # the partition job refuses less than an hour (a whole day partition is dropped at once)
        bounds=(1, 8760),
    ),
    Setting(
        "monitoring_rollup_retention_days",
        30,
        "Days 5-minute averages, statement deltas, alert history and advisor runs are kept.",
        "monitoring",
        int,
        bounds=(1, 3650),
    ),
    Setting(
        "monitoring_allow_kill",
        True,
        "Let dbas cancel or terminate backends from the Activity view (confirmed, audited).",
        "monitoring",
        bool,
    ),
    Setting(
        "advisor_interval_minutes",
        60,
        "Minutes between scheduled advisor runs per connection (0: only on demand).",
        "monitoring",
        int,
    ),
    Setting(
        "regression_baseline_window_minutes",
        1440,
        "Query regressions: minutes of statement deltas before the recent window that make a "
        "statement's own baseline mean.",
        "monitoring",
        int,
        bounds=(1, 43200),
    ),
    Setting(
        "regression_recent_window_minutes",
        15,
        "Query regressions: minutes of the recent window whose mean is compared with the baseline.",
        "monitoring",
        int,
        bounds=(1, 10080),
    ),
    Setting(
        "regression_ratio",
        2.0,
        "Query regressions: a statement regressed when its recent mean is at least this many "
        "times its baseline mean; it resolves when the recent mean is back under it.",
        "monitoring",
        float,
        bounds=(1.1, 1000.0),
        runtime_editable=True,
    ),
    Setting(
        "regression_min_calls",
        20,
        "Query regressions: calls a statement needs in each window to be judged at all.",
        "monitoring",
        int,
        bounds=(1, 1_000_000),
        runtime_editable=True,
    ),
    Setting(
        "regression_min_mean_ms",
        5.0,
        "Query regressions: a recent mean under this many ms never alerts (noise).",
        "monitoring",
        float,
        bounds=(0.0, 3_600_000.0),
        runtime_editable=True,
    ),
    Setting(
        "regression_explain_timeout_s",
        5.0,
        "Query regressions: seconds the plan (EXPLAIN, no ANALYZE) of a regressed statement may "
        "take (its statement_timeout; after it the alert says the plan is unavailable).",
        "monitoring",
        float,
        bounds=(0.1, 300.0),
    ),
    Setting(
        "alert_flap_limit",
        3,
        "Alerts of one rule and connection per hour beyond which notifications pause "
        "(flapping guard).",
        "monitoring",
        int,
        bounds=(0, 100000),
        runtime_editable=True,
    ),
    Setting(
        "alert_delivery_timeout_s",
        5.0,
        "Seconds a webhook POST or SMTP conversation may take.",
        "monitoring",
        float,
        bounds=(0.1, 600),
        runtime_editable=True,
    ),
    Setting(
        "alert_retry_base_s",
        5.0,
        "Seconds before the first retry of a failed alert delivery; each further retry waits "
        "twice as long (with random jitter), up to alert_retry_max_delay_s.",
        "monitoring",
        float,
        bounds=(0.1, 3600),
        runtime_editable=True,
    ),
    Setting(
        "alert_retry_max_delay_s",
        60.0,
        "Longest wait between two attempts of one alert delivery.",
        "monitoring",
        float,
        bounds=(0.1, 86400),
        runtime_editable=True,
    ),
    Setting(
        "alert_retry_max_attempts",
        100,
        "Attempts after which an alert delivery is given up (marked dead in the outbox).",
        "monitoring",
        int,
        bounds=(1, 1000),
        runtime_editable=True,
    ),
    Setting(
        "alert_retry_max_age_s",
        21600,
        "Seconds after which an undelivered alert notification is given up (marked dead).",
        "monitoring",
        int,
        bounds=(1, 604800),
        runtime_editable=True,
    ),
    Setting(
        "alert_delivery_thread",
        True,
        "Deliver the alert outbox from a small thread of each app process (off the sampling "
        "loop). Turn off when a worker process runs the delivery job instead.",
        "monitoring",
        bool,
    ),
    Setting(
        "alert_delivery_poll_s",
        2.0,
        "Seconds between two looks of the delivery thread at the outbox (new alerts wake it "
        "at once in the process that raised them).",
        "monitoring",
        float,
        bounds=(0.05, 600),
    ),
    Setting(
        "alert_max_payload_bytes",
        65536,
        "Largest notification body sent to a channel; a larger one is refused, not sent.",
        "monitoring",
        int,
        bounds=(1024, 10485760),
        runtime_editable=True,
    ),
    Setting(
        "alert_connect_to",
        "",
        "Comma-separated host:port=address:port pairs: deliveries to that host connect to the "
        "given address instead (like curl --connect-to: an egress relay, or a local receiver "
        "in tests). TLS still checks the original host name; the address must pass the "
        "outbound policy (outbound_allow).",
        "monitoring",
    ),
    Setting(
        "outbound_allow",
        "",
        "Comma-separated addresses, CIDR ranges or address:port that alert deliveries may reach "
        "although they are loopback, link-local or private (denied by default). The metadata "
        "store's own address:port is reachable only when listed exactly as address:port.",
        "monitoring",
    ),
    Setting(
        "smtp_password",
        "",
        "Password of the SMTP login that `alerts add-email` stores (encrypted) with an e-mail "
        "channel.",
        "monitoring",
        secret=True,
        runtime_editable=True,
    ),
)
