"""Resolved settings: typed attribute access, where each value came from, and the loader.

`load` layers defaults < TOML file < `PETCARE_*` environment < explicit overrides; `layered` puts
an admin's run-time overrides over what is still at its default (configuration wins); `Settings`
declares each setting's Python type for mypy; `markdown` writes docs/settings.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from petcare_dba.errors import ConfigError
from petcare_dba.settings.registry import SETTINGS, coerce_declared, setting

# The source of a value an admin set at run time (services/settings_admin.py).
OVERRIDE = "override"


class _Typed:
    """Each setting's type as mypy sees it on `Settings` (not dataclass fields: values are read
    from `Settings.values`). tests/unit/test_settings.py holds this to SETTINGS: a registry
    type T is `T` here, a None default `T | None`."""

    data_dir: str
    database_url: str
    store_prefix: str
    runtime_password: str
    embedded_port: int
    host: str
    port: int
    demo_scale: int
    demo_enabled: bool
    demo_workload: bool
    demo_workload_rate: float
    settings_refresh_s: int
    admin_password: str
    secret_key: str
    secret_key_file: str
    pool_min_size: int
    pool_max_size: int
    pool_timeout_s: float
    connect_timeout_s: int
    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_in_transaction_timeout_ms: int
    max_rows: int
    max_result_bytes: int
    max_connections_per_user: int
    slot_linger_s: float
    session_idle_minutes: int
    session_check_window_s: float
    session_absolute_hours: int
    lockout_threshold: int
    lockout_window_minutes: int
    ip_throttle_threshold: int
    ai_provider: str
    gemini_api_key: str
    gemini_model: str
    gemini_base_url: str
    openai_base_url: str
    openai_model: str
    default_language: str
    export_max_rows_viewer: int
    export_max_rows_analyst: int
    export_max_rows_dba: int
    export_max_rows_admin: int
    export_statement_timeout_ms: int
    target_keepalives_idle_s: int
    target_keepalives_interval_s: int
    target_keepalives_count: int
    projects_refresh_s: int
    backup_dir: str
    backup_retention_days: int
    backup_storage: str
    backup_s3_endpoint_url: str
    backup_s3_bucket: str
    backup_s3_prefix: str
    backup_s3_region: str
    backup_s3_access_key_id: str
    backup_s3_secret_access_key: str
    backup_s3_path_style: bool
    explorer_cache_ttl_s: int
    explorer_page_rows: int
    monitoring_enabled: bool
    monitoring_interval_s: int
    jobs_in_up: bool
    jobs_lease_s: float
    jobs_reconcile_interval_s: int
    jobs_chain_check_interval_s: int
    jobs_retention_interval_s: int
    schedules_poll_s: int
    schedule_runs_keep: int
    jobs_runs_retention_days: int
    shutdown_timeout_s: float
    monitoring_long_query_s: int
    monitoring_top_statements: int
    monitoring_raw_retention_hours: int
    monitoring_rollup_retention_days: int
    monitoring_allow_kill: bool
    advisor_interval_minutes: int
    regression_baseline_window_minutes: int
    regression_recent_window_minutes: int
    regression_ratio: float
    regression_min_calls: int
    regression_min_mean_ms: float
    regression_explain_timeout_s: float
    alert_flap_limit: int
    alert_delivery_timeout_s: float
    alert_retry_base_s: float
    alert_retry_max_delay_s: float
    alert_retry_max_attempts: int
    alert_retry_max_age_s: int
    alert_delivery_thread: bool
    alert_delivery_poll_s: float
    alert_max_payload_bytes: int
    alert_connect_to: str
    openai_api_key: str
    ai_timeout_s: float
    ai_retries: int
    ai_retry_delay_s: float
    ai_context_tokens: int
    ai_conversation_tokens: int
    ai_max_tool_calls: int
    ai_max_data_rows: int
    ai_daily_token_quota: int
    gemini_paid_tier: bool
    audit_head_dir: str
    audit_reconcile_minutes: int
    oidc_enabled: bool
    trusted_proxies: str
    login_delay_base_seconds: int
    login_delay_max_seconds: int
    login_account_ceiling: int
    login_account_slow_seconds: int
    runtime_password_reset: bool
    temp_file_limit_mb_viewer: int
    temp_file_limit_mb_analyst: int
    temp_file_limit_mb_dba: int
    temp_file_limit_mb_admin: int
    work_mem_max_mb_viewer: int
    work_mem_max_mb_analyst: int
    work_mem_max_mb_dba: int
    work_mem_max_mb_admin: int
    link_allowlist: str
    health_token: str
    import_max_bytes: int
    import_max_scripts: int
    import_max_versions: int
    imports_per_hour: int
    outbound_allow: str
    max_sql_bytes: int
    audit_sql_prefix_bytes: int
    audit_refusals_per_minute: int
    smtp_password: str
    advisor_long_query_error_factor: int
    advisor_idle_transaction_s: float
    advisor_lock_wait_s: float
    advisor_connection_usage_pct: float
    advisor_xid_age: int
    advisor_xid_age_error: int
    advisor_sequence_used_pct: float
    advisor_sequence_error_pct: float
    advisor_unused_index_bytes: int
    advisor_slow_query_ms: float
    advisor_slow_query_calls: int
    advisor_cache_hit_pct: float
    advisor_cache_min_blocks: int
    advisor_bloat_pct: float
    advisor_bloat_bytes: int
    advisor_dead_rows: int
    advisor_dead_pct: float
    advisor_analyze_rows: int
    advisor_partition_bytes: int
    advisor_partition_churn_pct: float
    cache_backend: str
    redis_url: str
    cache_namespace: str
    store_session_url: str
    cache_ttl_s: int
    cache_max_bytes: int
    cache_max_entry_bytes: int
    result_cache_enabled: bool
    result_cache_ttl_s: int
    result_cache_max_entry_bytes: int
    log_format: str
    log_level: str
    metrics_token: str
    mcp_calls_per_minute: int
    password_hash_memory_kib: int
    password_hash_time_cost: int
    password_hash_parallelism: int


@dataclass(frozen=True)
class Settings(_Typed):
    """Resolved settings: typed attribute access by name, plus where each value came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)

    if not TYPE_CHECKING:  # hidden from mypy, so a misspelt setting is a type error

        def __getattr__(self, name: str) -> Any:
            try:
                return self.values[name]
            except KeyError:
                raise AttributeError(name) from None

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with explicit values (CLI flags); None means 'not given'."""
        values = dict(self.values)
        sources = dict(self.sources)
        for name, raw in overrides.items():
            if raw is None:
                continue
            values[name] = coerce_declared(setting(name), raw)
            sources[name] = "cli"
        return Settings(values, sources)

    def pinned(self, name: str) -> bool:
        """True when the file, the environment or a flag set `name`: an admin's run-time
        override never beats what operations pinned in configuration (docs/settings.md)."""
        return self.sources.get(name, "default") not in ("default", OVERRIDE)

    def layered(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with the admins' run-time overrides over every setting still at its default.

        `overrides` holds values already checked (`coerce_declared`); a name that is not
        `runtime_editable`, or that configuration pins, keeps its value: pinned wins.
        """
        values = dict(self.values)
        sources = dict(self.sources)
        for name, value in overrides.items():
            if setting(name).runtime_editable and not self.pinned(name):
                values[name] = value
                sources[name] = OVERRIDE
        return Settings(values, sources)

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).expanduser()

    def describe(self) -> list[dict[str, Any]]:
        """Rows for `petcare-dba settings` and the UI page; secrets show only as set/unset."""
        rows = []
        for decl in SETTINGS:
            value = self.values[decl.name]
            shown = ("(set)" if value else "(unset)") if decl.secret else value
            rows.append(
                {
                    "name": decl.name,
                    "env": decl.env_var,
                    "value": shown,
                    "source": self.sources.get(decl.name, "default"),
                    "group": decl.group,
                    "help": decl.help,
                    "editable": decl.runtime_editable,
                }
            )
        return rows


def load(
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings: defaults < TOML file < PETCARE_* env < overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    sources: dict[str, str] = {}
    path = config_file or (Path(env["PETCARE_CONFIG"]) if env.get("PETCARE_CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc}") from exc
        for name, raw in data.items():
            values[name] = coerce_declared(setting(name), raw)
            sources[name] = "file"
    for decl in SETTINGS:
        if decl.env_var in env:
            values[decl.name] = coerce_declared(decl, env[decl.env_var])
            sources[decl.name] = "env"
        # Our own setting wins from any source; another program's variable only fills a gap.
        fallback = next((v for v in decl.fallback_env if env.get(v)), None)
        if fallback is not None and values[decl.name] in ("", None):
            values[decl.name] = coerce_declared(decl, env[fallback])
            sources[decl.name] = f"env {fallback}"
    return (
        Settings(values, sources).with_overrides(**overrides)
        if overrides
        else Settings(values, sources)
    )


def markdown() -> str:
    """docs/settings.md, generated from the registry (`petcare-dba settings --format markdown`)."""
    lines = [
        "# Settings",
        "",
        "Generated from `petcare_dba/settings/` by `petcare-dba settings --format "
        "markdown`. Precedence: defaults < TOML file (`PETCARE_CONFIG`) < environment < "
        "command-line flags. Secrets are shown as set/unset only.",
        "",
        "Settings marked *Editable at run time* may be changed by an admin while the app runs "
        "(the Settings page, `petcare-dba settings set NAME VALUE`, `settings reset NAME`): "
        "the value is kept in the metadata store (secrets sealed like connection credentials), "
        "the change is audited, applies at once on the instance that made it, on the others "
        "through the cache's invalidation bus and within `settings_refresh_s` at most. "
        "Precedence: defaults < run-time override < TOML file < environment < flags, i.e. a "
        "value pinned in configuration wins and the page shows it locked; remove it from the "
        "file or environment to manage it at run time.",
        "",
    ]
    for group in dict.fromkeys(s.group for s in SETTINGS):
        lines += [f"## {group}", "", "| variable | default | meaning |", "| --- | --- | --- |"]
        for s in SETTINGS:
            if s.group != group:
                continue
            default = (
                "(secret)"
                if s.secret
                else ("(per user: see meaning)" if s.name == "data_dir" else repr(s.default))
            )
            extra = f" One of: {', '.join(s.choices)}." if s.choices else ""
            extra += f" Between {s.bounds[0]} and {s.bounds[1]}." if s.bounds else ""
            extra += " *Editable at run time.*" if s.runtime_editable else ""
            lines.append(f"| `{s.env_var}` | {default} | {s.help}{extra} |")
        lines.append("")
    return "\n".join(lines)
