"""Alert rules, events and channels against local receivers (an HTTP server and an SMTP server
started by the tests), plus the monitoring health components."""

from __future__ import annotations

import time

import psycopg
import pytest

from petcare_dba.errors import AuthError, PermissionDenied
from petcare_dba.services import alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels
from petcare_dba.services.monitoring import collector, health, housekeeping, jobs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth
from tests.fix_monitoring import (
    Holder,
    SmtpReceiver,
    Target,
    WebhookReceiver,
    monitoring_cli,
    smtp,
    target_db,
    webhook,
)

__all__ = ["monitoring_cli", "smtp", "target_db", "webhook"]

DEFAULT_RULES = {
    "connection-saturation",
    "long-running-queries",
    "blocked-queries",
    "replication-lag",
    "cache-hit-drop",
    "xid-age",
    "disk-usage",
    "app-disk-usage",
    "error-rate-spike",
    "failed-login-burst",
    "refused-statement-burst",
    "advisor-error-finding",
    "lockout",
    "audit-chain-break",
    "query-regression",  # kind query_regression (migration 0027)
    "schedule-failed",  # scheduled work (migration 0026)
    "advisor-new-error",
}


def _round(rt: Runtime, admin: Actor, name: str) -> collector.Round:
    conn_id = connections.get(rt, admin, name).id
    return collector.sample_connection(rt, collector.system_actor(rt), conn_id, name, force=True)


def _evaluate(
    rt: Runtime, conn_id: int | None, metrics: dict[str, float]
) -> list[alerts.Notification]:
    actor = collector.system_actor(rt)
    with rt.store.tx(actor.identity) as tx:
        return alerts.evaluate(tx, rt, conn_id, metrics)


def test_default_rules_cover_the_usual_dangers(rt: Runtime, admin: Actor) -> None:
    rules = {r.name: r for r in alerts.list_rules(rt, admin)}
    assert set(rules) == DEFAULT_RULES
    assert all(r.enabled and r.severity in alerts.SEVERITIES for r in rules.values())


def test_a_blocking_lock_alerts_through_the_webhook_within_two_intervals_and_resolves(
    rt: Runtime, admin: Actor, target_db: Target, webhook: WebhookReceiver, test_settings
) -> None:  # type: ignore[no-untyped-def]
    channels.add_webhook(rt, admin, "ops-hook", webhook.url)
    alerts.update_rule(rt, admin, "blocked-queries", threshold=0.5)
    interval = 2
    fast = Runtime.start(
        test_settings.with_overrides(monitoring_interval_s=interval, advisor_interval_minutes=0)
    )
    target_db.execute("CREATE TABLE t (id int)")
    blocker = Holder(target_db.url, "BEGIN", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    waiter = Holder(target_db.url)
    try:
        jobs.start(fast)
        started = time.monotonic()
        waiter.run_in_background("SELECT * FROM t")
        fired = webhook.wait_for(3 * interval + 5, event="firing", rule="blocked-queries")
        assert fired is not None, "no firing notification"
        assert time.monotonic() - started <= 2 * interval + 2.5  # 2 intervals + round time
        assert fired["connection"] == "tgt" and fired["severity"] == "warning"
        assert "s3cret" not in str(channels.list_channels(rt, admin))
        blocker.conn.execute("COMMIT")
        resolved = webhook.wait_for(3 * interval + 5, event="resolved", rule="blocked-queries")
        assert resolved is not None and resolved["event_id"] == fired["event_id"]
    finally:
        jobs.stop(fast)
        fast.close()
        waiter.close()
        blocker.close()
    history = alerts.history(rt, admin)
    assert [(e.rule, e.state) for e in history] == [("blocked-queries", "resolved")]


def test_a_long_query_fires_once_while_it_runs_and_resolves_after(
    rt: Runtime, admin: Actor, target_db: Target, test_settings
) -> None:  # type: ignore[no-untyped-def]
    quick = Runtime.start(test_settings.with_overrides(monitoring_long_query_s=1))
    holder = Holder(target_db.url)
    try:
        holder.run_in_background("SELECT pg_sleep(20)")
        time.sleep(1.5)
        assert "long-running-queries" in _round(quick, admin, "tgt").alerts
        assert _round(quick, admin, "tgt").alerts == ()  # de-duplicated while it lasts
        assert len(alerts.history(rt, admin, state="firing")) == 1
    finally:
        holder.close()
        time.sleep(0.5)
    _round(quick, admin, "tgt")
    quick.close()
    assert alerts.history(rt, admin, state="firing") == []


def test_duration_holds_a_rule_back_until_the_condition_lasts(
    rt: Runtime, admin: Actor, target_db: Target
) -> None:
    alerts.add_rule(rt, admin, "always", "up", ">=", 1, duration_s=3600)
    alerts.add_rule(rt, admin, "always-now", "up", ">=", 1, duration_s=0)
    first = _round(rt, admin, "tgt")
    assert first.alerts == ("always-now",)
    assert _round(rt, admin, "tgt").alerts == ()
    assert {e.rule for e in alerts.history(rt, admin)} == {"always-now"}


def test_a_flapping_rule_stops_notifying(rt: Runtime, admin: Actor) -> None:
    alerts.add_rule(rt, admin, "flappy", "host_cpu_pct", ">", 50, scope="app")
    sent = []
    for i in range(6):
        sent += _evaluate(rt, None, {"host_cpu_pct": 90.0 + i})
        sent += _evaluate(rt, None, {"host_cpu_pct": 10.0})
    events = alerts.history(rt, admin)
    assert len(events) == 6 and all(e.state == "resolved" for e in events)
    assert [e.flapping for e in reversed(events)] == [False] * 3 + [True] * 3
    assert [n.kind for n in sent] == ["firing", "resolved"] * 3


def test_dbas_acknowledge_and_viewers_cannot(rt: Runtime, admin: Actor, make_user) -> None:  # type: ignore[no-untyped-def]
    _evaluate(rt, None, {"app_failed_logins_5m": 50.0})
    event = alerts.history(rt, admin, state="firing")[0]
    viewer, dba = make_user("vera", "viewer"), make_user("dora", "dba")
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(rt, viewer, event.id)
    alerts.acknowledge(rt, dba, event.id)
    acked = alerts.history(rt, viewer)[0]
    assert acked.acknowledged_by == "dora" and acked.acknowledged_at is not None
    assert any(e.action == "alert.acknowledge" for e in audit.recent(rt.store, admin))


def test_only_admins_change_rules_and_channels(
    rt: Runtime, admin: Actor, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    with pytest.raises(PermissionDenied):
        alerts.update_rule(rt, dba, "xid-age", threshold=1)
    with pytest.raises(PermissionDenied):
        channels.add_webhook(rt, dba, "hook", "http://127.0.0.1:9/x")
    with psycopg.connect(meta_url) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE petcare_app")
        conn.execute("SELECT set_config('app.user_id', %s, true)", (str(dba.user_id),))
        assert conn.execute("UPDATE petcare.alert_rules SET threshold = 1").rowcount == 0
        assert conn.execute("SELECT count(*) FROM petcare.alert_channels").fetchone() == (0,)


def test_failed_logins_and_refused_statements_raise_app_alerts(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    alerts.update_rule(rt, admin, "failed-login-burst", threshold=2)
    alerts.update_rule(rt, admin, "refused-statement-burst", threshold=1)
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO petcare.login_attempts (username, client_addr, succeeded, reason) "
            "SELECT 'mallory', '10.0.0.9', false, 'bad password' FROM generate_series(1, 3)"
        )
    for _ in range(2):
        audit.record(rt.store, admin, "sql.run", "refused", sql_text="DROP TABLE t")
    collector.app_round(rt, collector.system_actor(rt), force=True)
    firing = {e.rule for e in alerts.history(rt, admin, state="firing")}
    assert {"failed-login-burst", "refused-statement-burst"} <= firing


def test_a_lockout_raises_an_app_alert(rt: Runtime, admin: Actor, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("rita", "viewer")
    for _ in range(int(rt.settings.lockout_threshold)):
        with pytest.raises(AuthError):
            auth.login(rt.store, rt.settings, "rita", "wrong-password-123", client_addr="10.1.0.1")
    metrics = collector.app_round(rt, collector.system_actor(rt), force=True)
    assert metrics is not None and metrics["app_lockouts_5m"] >= 1
    firing = {e.rule for e in alerts.history(rt, admin, state="firing")}
    assert "lockout" in firing


def test_a_broken_audit_chain_raises_a_critical_alert(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    audit.record(rt.store, admin, "sql.run", "ok", sql_text="SELECT 1")
    assert housekeeping.check_chain(rt) is True
    assert not [e for e in alerts.history(rt, admin) if e.rule == "audit-chain-break"]
    with psycopg.connect(meta_url, autocommit=True) as conn:  # a superuser rewrites history
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER audit_log_no_update")
        conn.execute("UPDATE petcare.audit_log SET sql_text = 'SELECT 2' WHERE action = 'sql.run'")
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER audit_log_no_update")
    assert housekeeping.check_chain(rt) is False
    (event,) = [e for e in alerts.history(rt, admin) if e.rule == "audit-chain-break"]
    assert event.state == "firing" and event.severity == "critical"


def test_webhook_and_email_channels_send_a_test(
    rt: Runtime, admin: Actor, webhook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    channels.add_webhook(rt, admin, "hook", webhook.url)
    channels.add_email(
        rt,
        admin,
        "mail",
        host="127.0.0.1",
        port=smtp.port,
        sender="petcare@example.org",
        recipients=["dba@example.org"],
    )
    assert channels.send_test(rt, admin, "hook").ok
    body = webhook.wait_for(5, event="test")
    assert body is not None and body["source"] == "petcare-dba"
    assert channels.send_test(rt, admin, "mail").ok
    mail = smtp.messages.get(timeout=5)
    assert "<dba@example.org>" in mail["to"] and "Subject: [petcare-dba] TEST" in mail["data"]
    listed = {c.name: c for c in channels.list_channels(rt, admin)}
    assert listed["hook"].last_delivery_ok and "token" not in str(listed["hook"].config)


def test_a_notification_reaches_every_channel_when_an_alert_fires(
    rt: Runtime, admin: Actor, webhook: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    channels.add_webhook(rt, admin, "hook", webhook.url)
    channels.add_email(
        rt,
        admin,
        "mail",
        host="127.0.0.1",
        port=smtp.port,
        sender="petcare@example.org",
        recipients=["dba@example.org"],
    )
    alerts.deliver(rt, _evaluate(rt, None, {"app_refused_statements_5m": 99.0}))
    assert webhook.wait_for(5, event="firing", rule="refused-statement-burst")
    assert "FIRING warning: refused-statement-burst" in smtp.messages.get(timeout=5)["data"]


def test_delivery_failures_show_in_health(rt: Runtime, admin: Actor) -> None:
    channels.add_webhook(rt, admin, "dead", "http://127.0.0.1:9/nothing")
    result = channels.send_test(rt, admin, "dead")
    assert not result.ok and result.error
    parts = {c.name: c for c in health.monitoring_components(rt)}
    assert not parts["alert_delivery"].ok and "failed" in parts["alert_delivery"].detail
    assert parts["cache"].ok


def test_collector_freshness_in_health(rt: Runtime, admin: Actor, target_db: Target) -> None:
    assert not {c.name: c for c in health.monitoring_components(rt)}["collector"].ok
    _round(rt, admin, "tgt")
    fresh = {c.name: c for c in health.monitoring_components(rt)}["collector"]
    assert fresh.ok and "1/1" in fresh.detail


def test_alerts_list_json_from_the_command_line(monitoring_cli, rt: Runtime) -> None:  # type: ignore[no-untyped-def]
    import json

    _evaluate(rt, None, {"app_failed_logins_5m": 99.0})
    result = monitoring_cli("alerts", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)
    assert [(e["rule"], e["state"]) for e in events] == [("failed-login-burst", "firing")]
    rules = json.loads(monitoring_cli("alerts", "rules", "--format", "json").output)
    assert len(rules) == len(DEFAULT_RULES)
