"""Settings an admin changes at run time (issue 19): round trip, sealing at rest, audit, checks
that write nothing, configuration that wins, and every instance applying a change in time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.ai import Message, make_provider
from petcare_dba.errors import PermissionDenied, PetcareError, ValidationError
from petcare_dba.services import settings_admin, settings_overlay
from petcare_dba.services.actor import Actor
from petcare_dba.services.cache import bus
from petcare_dba.services.runtime import Runtime
from tests.fix_gemini import FakeModelServer

SECRET = "AIzaTest-0123456789-abcdefghij"


def _rows(meta_url: str, query: str) -> list[tuple[Any, ...]]:
    """Read the store as its owner (past RLS): what is really at rest."""
    with psycopg.connect(meta_url) as conn:
        return conn.execute(query.encode()).fetchall()


def _settings_audit(meta_url: str) -> list[tuple[Any, ...]]:
    return _rows(
        meta_url,
        "SELECT action, outcome, target, event_id, a::text FROM petcare.audit_log a "
        "WHERE action LIKE 'settings.%' ORDER BY chain_seq",
    )


def _secret(name: str) -> bool:
    try:
        return settings_admin.editable(name).secret
    except PetcareError:
        return False


@pytest.fixture
def second(test_settings: settings_mod.Settings) -> Iterator[tuple[Runtime, Runtime]]:
    """Two instances on one store, each looking at the overrides every second."""
    fast = test_settings.with_overrides(settings_refresh_s=1)
    one = Runtime.start(fast)
    two = Runtime.start(fast)
    yield one, two
    two.close()
    one.close()


def test_set_then_reset_round_trip(rt: Runtime, admin: Actor) -> None:
    assert rt.settings.ai_retries == 3 and rt.settings.sources.get("ai_retries") is None
    settings_admin.set_value(rt, admin, "ai_retries", "7")
    assert rt.settings.ai_retries == 7  # this instance: at once, no restart
    assert rt.settings.sources["ai_retries"] == "override"
    row = next(r for r in settings_admin.list_editable(rt, admin) if r.name == "ai_retries")
    assert (row.value, row.default, row.source, row.locked) == ("7", "3", "override", False)
    assert row.updated_by == admin.username and row.updated_at is not None
    settings_admin.set_value(rt, admin, "ai_provider", "gemini")
    assert rt.settings.ai_provider == "gemini"
    assert settings_admin.reset(rt, admin, "ai_retries") is True
    assert rt.settings.ai_retries == 3 and rt.settings.sources.get("ai_retries") is None
    assert settings_admin.reset(rt, admin, "ai_retries") is False  # nothing left to reset
    assert settings_overlay.read(rt.store, rt.keyring) == {"ai_provider": "gemini"}


def test_a_secret_is_sealed_at_rest_and_shown_only_as_set(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    settings_admin.set_value(rt, admin, "gemini_api_key", SECRET)
    assert rt.settings.gemini_api_key == SECRET
    [(value_text, secret_enc, key_version)] = _rows(
        meta_url,
        "SELECT value_text, secret_enc, key_version FROM petcare.setting_overrides "
        "WHERE name = 'gemini_api_key'",
    )
    blob = bytes(secret_enc)
    assert value_text is None and key_version == rt.keyring.current_version
    assert blob.startswith(b"PC1") and SECRET.encode() not in blob
    assert SECRET not in str(_rows(meta_url, "SELECT o::text FROM petcare.setting_overrides o"))
    # Bound to its name: the same envelope under another setting's name does not open.
    with pytest.raises(PetcareError):
        rt.keyring.open(blob, settings_overlay.purpose("openai_api_key"))
    row = next(r for r in settings_admin.list_editable(rt, admin) if r.name == "gemini_api_key")
    assert row.value == "(set)" and SECRET not in repr(row)
    assert SECRET not in repr(rt.settings.describe())


def test_each_change_is_audited_as_a_pair_naming_the_setting_never_the_secret(
    rt: Runtime, admin: Actor, meta_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings_admin.set_value(rt, admin, "gemini_api_key", SECRET)
    settings_admin.set_value(rt, admin, "advisor_bloat_pct", "42.5")
    settings_admin.reset(rt, admin, "gemini_api_key")
    rows = _settings_audit(meta_url)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("settings.set", "intent", "gemini_api_key"),
        ("settings.set", "ok", "gemini_api_key"),
        ("settings.set", "intent", "advisor_bloat_pct"),
        ("settings.set", "ok", "advisor_bloat_pct"),
        ("settings.reset", "intent", "gemini_api_key"),
        ("settings.reset", "ok", "gemini_api_key"),
    ]
    for intent, outcome in zip(rows[::2], rows[1::2], strict=True):
        assert intent[3] == outcome[3] is not None  # one event: the intent pairs its outcome
    assert all(SECRET not in r[4] for r in rows)
    assert '""value"": ""42.5""' in rows[3][4]  # a plain value is recorded, a secret never
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ai_retries", "three", "must be a whole number"),
        ("ai_retries", "2.5", "must be a whole number"),
        ("ai_retries", "21", "between 0 and 20"),
        ("advisor_bloat_pct", "-1", "between 0 and 100"),
        ("advisor_bloat_pct", "nan", "between"),
        ("ai_provider", "evil", "one of disabled, gemini, openai"),
        ("gemini_model", "model name; DROP", "not allowed"),
        ("gemini_model", "x" * 5000, "over 4096 bytes"),
        ("gemini_model", "gemini\n-2.5", "control characters"),
        ("gemini_model", "gemini\x00", "control characters"),
        ("gemini_model", "gemini\u2028x", "control characters"),
        ("gemini_api_key", "", "empty value"),
        ("gemini_api_key", "k" * 4097, "over 4096 bytes"),
        ("gemini_api_key", "key\r\nX-Injected: 1", "control characters"),
        ("no_such_setting", "1", "unknown setting"),
        ("x" * 10_000, "1", "unknown setting"),
        ("database_url", "postgresql://evil@h/db", "cannot be changed at run time"),
        ("secret_key", "A" * 44, "cannot be changed at run time"),
        ("host", "0.0.0.0", "cannot be changed at run time"),
        ("outbound_allow", "10.0.0.0/8", "cannot be changed at run time"),
        ("gemini_base_url", "https://evil.example", "cannot be changed at run time"),
        ("store_prefix", "other", "cannot be changed at run time"),
    ],
)
def test_a_bad_value_is_a_clear_error_and_writes_nothing(
    rt: Runtime, admin: Actor, meta_url: str, name: str, value: str, message: str
) -> None:
    before = dict(rt.settings.values)
    with pytest.raises(ValidationError, match=message) as raised:
        settings_admin.set_value(rt, admin, name, value)
    assert len(raised.value.message) < 200  # an oversized input is not echoed back
    if name == "gemini_api_key":
        assert value[:20] not in raised.value.message or not value
    assert _rows(meta_url, "SELECT count(*) FROM petcare.setting_overrides") == [(0,)]
    # The attempt is on record as refused, with the reason and never the value.
    (row,) = _settings_audit(meta_url)
    assert row[:2] == ("settings.set", "refused")
    if _secret(name) or len(value) > 500:  # neither a secret nor a flood lands in the log
        assert not value or value[:40] not in row[4]
    assert dict(rt.settings.values) == before


def test_only_admins_may_list_set_or_reset(
    rt: Runtime, admin: Actor, make_user: Any, meta_url: str
) -> None:
    settings_admin.set_value(rt, admin, "ai_retries", "5")
    for role in ("dba", "viewer"):
        someone = make_user(f"u{role}", role)
        with pytest.raises(PermissionDenied, match="admin"):
            settings_admin.set_value(rt, someone, "ai_retries", "6")
        with pytest.raises(PermissionDenied, match="admin"):
            settings_admin.reset(rt, someone, "ai_retries")
        with pytest.raises(PermissionDenied, match="admin"):
            settings_admin.list_editable(rt, someone)
    assert rt.settings.ai_retries == 5
    refused = [r[:3] for r in _settings_audit(meta_url) if r[1] == "refused"]
    assert (
        refused
        == [("settings.set", "refused", "ai_retries"), ("settings.reset", "refused", "ai_retries")]
        * 2
    )


def test_configuration_wins_and_is_shown_locked(
    test_settings: settings_mod.Settings, rt: Runtime, admin: Actor
) -> None:
    settings_admin.set_value(rt, admin, "ai_retries", "9")  # stored by one instance
    pinned = Runtime.start(test_settings.with_overrides(ai_retries=2))  # pinned on another
    try:
        assert pinned.settings.ai_retries == 2  # the stored override does not beat it
        row = next(r for r in settings_admin.list_editable(pinned, admin) if r.name == "ai_retries")
        assert row.locked and row.source == "cli" and row.value == "2"
        with pytest.raises(ValidationError, match="pinned by configuration"):
            settings_admin.set_value(pinned, admin, "ai_retries", "4")
    finally:
        pinned.close()
    assert rt.settings.ai_retries == 9


def test_without_the_bus_another_instance_applies_a_change_within_settings_refresh_s(
    second: tuple[Runtime, Runtime], admin: Actor
) -> None:
    one, two = second
    two.cache.signals.clear()  # a lost bus signal: the poll alone must bring the change
    settings_admin.set_value(one, admin, "monitoring_long_query_s", "123")
    settings_admin.set_value(one, admin, "openai_api_key", SECRET)
    started = time.monotonic()
    while two.settings.monitoring_long_query_s != 123 and time.monotonic() - started < 5:
        time.sleep(0.05)
    seen_after = time.monotonic() - started
    assert two.settings.monitoring_long_query_s == 123, "not applied on the other instance"
    assert two.settings.openai_api_key == SECRET  # opened with the shared data key
    assert seen_after <= 1.0 + 0.75  # settings_refresh_s (1) plus one read, on a busy CI
    settings_admin.reset(one, admin, "monitoring_long_query_s")
    started = time.monotonic()
    while two.settings.monitoring_long_query_s != 60 and time.monotonic() - started < 5:
        time.sleep(0.05)
    assert two.settings.monitoring_long_query_s == 60
    assert two.settings.sources.get("monitoring_long_query_s") is None


def test_the_bus_signal_brings_a_change_to_another_instance_before_its_poll(
    test_settings: settings_mod.Settings, admin: Actor
) -> None:
    slow = test_settings.with_overrides(settings_refresh_s=600)
    one, two = Runtime.start(slow), Runtime.start(slow)
    try:
        assert two.cache.bus is not None and two.cache.bus.connected
        started = time.monotonic()
        settings_admin.set_value(one, admin, "ai_daily_token_quota", "1234")
        while two.settings.ai_daily_token_quota != 1234 and time.monotonic() - started < 10:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        assert two.settings.ai_daily_token_quota == 1234
        assert elapsed < 3.0, f"{elapsed:.2f}s: the poll (600 s) cannot have brought it"
    finally:
        two.close()
        one.close()


def test_a_flood_of_forged_signals_costs_a_bounded_number_of_reads(rt: Runtime) -> None:
    """Anyone who reaches the store may NOTIFY on the channel: a signal is only a hint to look."""
    assert rt.overlay is not None
    forged = bus.Message("f" * 32, None, ("settings",)).text()
    time.sleep(0.3)  # the start-up read is behind us
    reads = rt.overlay.refreshes
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        rt.cache.receive(forged)
        time.sleep(0.001)
    time.sleep(0.3)
    assert 1 <= rt.overlay.refreshes - reads <= 1.6 / 0.2 + 1
    assert rt.settings.ai_retries == 3


def test_a_rerun_costs_no_metadata_round_trip(rt: Runtime, admin: Actor) -> None:
    """The overlay reads the store from its thread only: reading settings is a field access."""
    assert rt.overlay is not None
    reads = rt.overlay.refreshes
    for _ in range(1000):
        assert rt.settings.ai_retries == 3
    assert rt.overlay.refreshes - reads <= 1  # at most the thread's own look meanwhile


def test_the_ai_provider_is_built_with_the_new_key(
    test_settings: settings_mod.Settings, admin: Actor, fake_gemini: FakeModelServer
) -> None:
    # The endpoint is configuration (not editable); provider and key are changed at run time.
    runtime = Runtime.start(
        test_settings.with_overrides(gemini_base_url=fake_gemini.url, ai_retries=0)
    )
    try:
        settings_admin.set_value(runtime, admin, "ai_provider", "gemini")
        settings_admin.set_value(runtime, admin, "gemini_api_key", "bad-key")
        with pytest.raises(PetcareError, match="rejected the API key"):
            make_provider(runtime.settings).count_tokens("s", [Message("user", "hi")])
        settings_admin.set_value(runtime, admin, "gemini_api_key", "good-key-2")
        provider = make_provider(runtime.settings)
        assert provider.count_tokens("s", [Message("user", "hi")]) > 0
        keys = [r["headers"].get("x-goog-api-key") for r in fake_gemini.requests]
        assert keys[0] == "bad-key" and keys[-1] == "good-key-2"
    finally:
        runtime.close()


def test_a_stored_row_that_no_longer_checks_is_skipped_without_its_value(
    rt: Runtime, admin: Actor, meta_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(meta_url) as conn:  # as the owner: rows the app would never write
        conn.execute(
            b"INSERT INTO petcare.setting_overrides (name, value_text) VALUES "
            b"('ai_retries', '999'), ('database_url', 'postgresql://x'), ('port', '1')"
        )
    caplog.set_level(logging.WARNING)
    assert settings_overlay.read(rt.store, rt.keyring) == {}
    assert "ai_retries" in caplog.text and "999" not in caplog.text


def test_the_overlay_keeps_the_last_values_when_the_store_is_unreachable(
    rt: Runtime, admin: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    settings_admin.set_value(rt, admin, "ai_retries", "4")
    assert rt.overlay is not None and rt.overlay._thread is not None
    caplog.set_level(logging.WARNING)
    rt.store.close()  # every later read fails
    rt.overlay.wake()
    started = time.monotonic()
    while "not refreshed" not in caplog.text and time.monotonic() - started < 5:
        time.sleep(0.02)
    assert "not refreshed" in caplog.text
    assert rt.settings.ai_retries == 4  # the last values read stay in force
    assert rt.overlay._thread.is_alive()
