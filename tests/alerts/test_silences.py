"""Silences and maintenance windows: alerts recorded but not delivered, who may set them, the
audit trail, and the `petcare-dba alerts silence|maintenance` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

import pytest

from petcare_dba.errors import NotFound, PermissionDenied, ValidationError
from petcare_dba.services import alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbox, silences
from petcare_dba.services.monitoring import collector
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.alerts.fix_receivers import Signed
from tests.alerts.test_alert_delivery import fire, states
from tests.fix_monitoring import Target, monitoring_cli, target_db

__all__ = ["monitoring_cli", "target_db"]
HOUR = timedelta(hours=1)


def fire_on(rt: Runtime, conn_id: int, metrics: dict[str, float]) -> list[alerts.Notification]:
    with rt.store.tx(collector.system_actor(rt).identity) as tx:
        return alerts.evaluate(tx, rt, conn_id, metrics)


def test_a_silence_records_the_alert_but_sends_nothing_until_it_is_removed(
    rt: Runtime, admin: Actor
) -> None:
    receiver = Signed()
    try:
        receiver.secret = channels.add_webhook(rt, admin, "hook", receiver.url)
        silence = silences.add_silence(
            rt,
            admin,
            rule="failed-login-burst",
            ends_at=datetime.now(UTC) + HOUR,
            reason="password spray drill",
        )
        fire(rt, {"app_failed_logins_5m": 50.0})
        fire(rt, {"app_refused_statements_5m": 50.0})  # another rule: not silenced
        assert alerts.deliver_due(rt) == alerts.DeliveryReport(delivered=1)
        assert [b["rule"] for b in receiver.drain(0.3)] == ["refused-statement-burst"]
        firing = {e.rule for e in alerts.history(rt, admin, state="firing")}
        assert {"failed-login-burst", "refused-statement-burst"} <= firing  # both recorded
        held = [r for r in outbox.rows(rt, admin) if r.state == "suppressed"]
        assert [r.suppressed_by for r in held] == [f"silence #{silence}"]
        (listed,) = silences.list_silences(rt, admin)
        assert (
            listed.active and listed.created_by == "admin" and listed.rule == "failed-login-burst"
        )
        silences.remove_silence(rt, admin, silence)
        fire(rt, {"app_failed_logins_5m": 0.0})  # resolves, no longer silenced
        assert alerts.deliver_due(rt).delivered == 1
        assert [b["event"] for b in receiver.drain(0.3)] == ["resolved"]
    finally:
        receiver.close()
    actions = [e.action for e in audit.recent(rt.store, admin)]
    assert "alert.silence.add" in actions and "alert.silence.remove" in actions


def test_a_silence_that_begins_after_the_alert_still_holds_back_its_delivery(
    rt: Runtime, admin: Actor
) -> None:
    channels.add_webhook(rt, admin, "hook", "http://127.0.0.1:9/never")
    fire(rt, {"app_failed_logins_5m": 50.0})  # written pending (receiver down, say)
    silences.add_silence(
        rt, admin, severity="warning", ends_at=datetime.now(UTC) + HOUR, reason="x"
    )
    assert alerts.deliver_due(rt) == alerts.DeliveryReport(suppressed=1)
    assert states(rt, admin) == {"suppressed": 1}


def test_silences_refuse_unknown_names_past_ends_and_empty_reasons(
    rt: Runtime, admin: Actor
) -> None:
    later = datetime.now(UTC) + HOUR
    with pytest.raises(NotFound):  # a typo must not widen the silence to every rule
        silences.add_silence(rt, admin, rule="no-such-rule", ends_at=later, reason="x")
    with pytest.raises(ValidationError):
        silences.add_silence(rt, admin, ends_at=datetime.now(UTC) - HOUR, reason="x")
    with pytest.raises(ValidationError):
        silences.add_silence(rt, admin, ends_at=later, reason=" \r\n ")
    with pytest.raises(ValidationError):
        silences.add_silence(rt, admin, severity="info", ends_at=later, reason="x")
    assert silences.list_silences(rt, admin, include_past=True) == []


def test_maintenance_windows_hold_back_only_their_connection_while_open(
    rt: Runtime, admin: Actor, target_db: Target
) -> None:
    conn_id = connections.get(rt, admin, "tgt").id
    channels.add_webhook(rt, admin, "hook", "http://127.0.0.1:9/never")
    now = datetime.now(UTC)
    # Ten minutes ago, but never before today's midnight: a weekly window is keyed by its
    # start day, and just after midnight "ten minutes ago" would belong to yesterday.
    earlier = now - timedelta(minutes=10)
    start = earlier.time() if earlier.date() == now.date() else dt_time(0, 0)
    weekly = silences.add_maintenance(
        rt,
        admin,
        "tgt",
        reason="weekly vacuum",
        days=[now.isoweekday()],
        start_time=start.replace(microsecond=0),
        duration_minutes=60,
    )
    fire_on(rt, conn_id, {"long_running_queries": 3.0})
    (held,) = outbox.rows(rt, admin)
    assert held.state == "suppressed" and held.suppressed_by == f"maintenance #{weekly}"
    assert [w.active for w in silences.list_maintenance(rt, admin)] == [True]
    silences.remove_maintenance(rt, admin, weekly)
    past = silences.add_maintenance(
        rt, admin, "tgt", reason="done", starts_at=now - 2 * HOUR, ends_at=now - HOUR
    )
    fire_on(rt, conn_id, {"long_running_queries": 0.0})
    rows = {r.kind: r for r in outbox.rows(rt, admin)}
    assert rows["resolved"].state == "pending"  # the one-off window is over
    assert [w.id for w in silences.list_maintenance(rt, admin)] == []
    assert [w.id for w in silences.list_maintenance(rt, admin, include_past=True)] == [past]


def test_a_weekly_window_on_other_days_or_in_another_zone_does_not_apply(
    rt: Runtime, admin: Actor, target_db: Target
) -> None:
    conn_id = connections.get(rt, admin, "tgt").id
    channels.add_webhook(rt, admin, "hook", "http://127.0.0.1:9/never")
    now = datetime.now(UTC)
    other_day = now.isoweekday() % 7 + 1
    silences.add_maintenance(
        rt,
        admin,
        "tgt",
        reason="x",
        days=[other_day, (other_day % 7) + 1],
        start_time=now.time().replace(microsecond=0),
        duration_minutes=1,
    )
    with pytest.raises(ValidationError):
        silences.add_maintenance(
            rt, admin, "tgt", reason="x", start_time=now.time(), duration_minutes=5, tz="Mars/Base"
        )
    with pytest.raises(ValidationError):
        silences.add_maintenance(
            rt, admin, "tgt", reason="x", days=[8], start_time=now.time(), duration_minutes=5
        )
    fire_on(rt, conn_id, {"long_running_queries": 3.0})
    assert states(rt, admin) == {"pending": 1}


def test_viewers_cannot_silence_and_dbas_only_their_connections(
    rt: Runtime, admin: Actor, make_user
) -> None:  # type: ignore[no-untyped-def]
    viewer, dba = make_user("vera", "viewer"), make_user("dora", "dba")
    later = datetime.now(UTC) + HOUR
    with pytest.raises(PermissionDenied):
        silences.add_silence(rt, viewer, ends_at=later, reason="x")
    # An app-wide silence (no connection) is an admin's: RLS refuses the dba.
    with pytest.raises(Exception, match=r"row-level security|permission|policy"):
        silences.add_silence(rt, dba, ends_at=later, reason="x")
    sid = silences.add_silence(rt, admin, ends_at=later, reason="admin's")
    assert [s.id for s in silences.list_silences(rt, viewer)] == [sid]  # visible to all
    with pytest.raises(NotFound):
        silences.remove_silence(rt, dba, sid)


def test_silence_and_maintenance_from_the_command_line(
    monitoring_cli, rt: Runtime, admin: Actor, target_db: Target
) -> None:  # type: ignore[no-untyped-def]
    added = monitoring_cli(
        "alerts", "silence", "add", "--rule", "xid-age", "--for", "2h", "--reason", "migration"
    )
    assert added.exit_code == 0, added.output
    (listed,) = json.loads(monitoring_cli("alerts", "silence", "list", "-f", "json").output)
    assert listed["rule"] == "xid-age" and listed["reason"] == "migration" and listed["active"]
    assert monitoring_cli("alerts", "silence", "remove", str(listed["id"])).exit_code == 0
    assert json.loads(monitoring_cli("alerts", "silence", "list", "-f", "json").output) == []
    window = monitoring_cli(
        "alerts",
        "maintenance",
        "add",
        "-c",
        "tgt",
        "--at",
        "02:00",
        "--minutes",
        "90",
        "--day",
        "6",
        "--day",
        "7",
        "--tz",
        "Europe/Lisbon",
        "--reason",
        "patching",
    )
    assert window.exit_code == 0, window.output
    (w,) = json.loads(monitoring_cli("alerts", "maintenance", "list", "-f", "json").output)
    assert w["recurring"] and w["days"] == [6, 7] and w["tz"] == "Europe/Lisbon"
    assert monitoring_cli("alerts", "maintenance", "remove", str(w["id"])).exit_code == 0
    with pytest.raises(ValidationError, match="one-off"):  # the real CLI prints it, exit 1
        monitoring_cli(
            "alerts", "maintenance", "add", "-c", "tgt", "--at", "02:00",
            "--end", "2030-01-01T00:00", "--reason", "x",
        )  # fmt: skip
