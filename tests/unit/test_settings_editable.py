"""The run-time allow-list (issue 19): what an admin may change live is declared on the
registry, bounded, and never names the store, keys, bind addresses, endpoints or roles; the
precedence of configuration over an override."""

from __future__ import annotations

from petcare_dba import settings
from petcare_dba.settings import SETTINGS

# Changing these live would move the store, the keys, what the app listens on, where keys and
# data are sent, or who may do what: configuration only.
NEVER_EDITABLE = {
    "data_dir", "database_url", "store_prefix", "runtime_password", "embedded_port", "host",
    "port", "admin_password", "secret_key", "secret_key_file", "store_session_url", "redis_url",
    "cache_namespace", "cache_backend", "outbound_allow", "alert_connect_to", "gemini_base_url",
    "openai_base_url", "trusted_proxies", "health_token", "metrics_token", "oidc_enabled",
    "runtime_password_reset", "link_allowlist", "gemini_paid_tier", "ai_max_data_rows",
    "monitoring_allow_kill", "settings_refresh_s",
}  # fmt: skip


def test_the_allow_list_holds_what_the_issue_names_and_nothing_unsafe() -> None:
    editable = {s.name for s in SETTINGS if s.runtime_editable}
    assert {"ai_provider", "gemini_api_key", "gemini_model", "openai_api_key"} <= editable
    assert {"smtp_password", "alert_retry_max_attempts", "alert_delivery_timeout_s"} <= editable
    assert {"advisor_bloat_pct", "monitoring_long_query_s", "regression_ratio"} <= editable
    assert not editable & NEVER_EDITABLE
    assert not {n for n in editable if n.endswith(("_url", "_role", "_roles"))}


def test_every_editable_number_is_bounded_and_every_text_is_constrained() -> None:
    for s in SETTINGS:
        if not s.runtime_editable:
            continue
        if s.type in (int, float):
            assert s.bounds is not None, s.name
        elif s.type is str and not s.secret:
            assert s.choices or s.pattern, s.name


def test_an_override_beats_a_default_never_configuration() -> None:
    loaded = settings.load(env={"PETCARE_AI_RETRIES": "2"})
    layered = loaded.layered({"ai_retries": 9, "ai_timeout_s": 12.0, "port": 1})
    assert layered.ai_retries == 2 and layered.sources["ai_retries"] == "env"
    assert layered.ai_timeout_s == 12.0 and layered.sources["ai_timeout_s"] == "override"
    assert layered.port == 8501  # not editable: an override of it is ignored
    assert loaded.ai_timeout_s == 60.0  # layering returns a copy
    fallback = settings.load(env={"GOOGLE_API_KEY": "from-google-env"})
    assert fallback.layered({"gemini_api_key": "x"}).gemini_api_key == "from-google-env"
