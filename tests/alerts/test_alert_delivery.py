"""Alert delivery end to end: every format reaches a local receiver that checks its required
fields (Slack, Teams, Discord and PagerDuty through Apprise to an HTTPS stand-in reached by
`alert_connect_to`; e-mail to aiosmtpd; the signed webhook to a receiver verifying the HMAC),
the outbox survives a receiver outage and delivers each alert exactly once, and two deliverers
never send a row twice."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any

import pytest

from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, deliverer, outbox
from petcare_dba.services.monitoring import collector
from petcare_dba.services.runtime import Runtime
from tests.alerts.fix_receivers import (
    DISCORD_URL,
    PD_KEY,
    SLACK_URL,
    TEAMS_URL,
    Mailbox,
    Services,
    Signed,
    _tls_files,
    mailbox,
    services,
)

__all__ = ["_tls_files", "mailbox", "services"]


def fire(rt: Runtime, metrics: dict[str, float]) -> list[alerts.Notification]:
    """Evaluate app rules as the collector does (the outbox rows are written in this tx)."""
    with rt.store.tx(collector.system_actor(rt).identity) as tx:
        return alerts.evaluate(tx, rt, None, metrics)


def states(rt: Runtime, admin: Actor) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in outbox.rows(rt, admin, limit=500):
        out[row.state] = out.get(row.state, 0) + 1
    return out


def test_each_service_format_reaches_its_receiver_with_the_required_fields(
    rt: Runtime, admin: Actor, services: Services
) -> None:
    rt.settings = rt.settings.with_overrides(alert_connect_to=services.connect_to())
    channels.add_service(rt, admin, "slack", "slack", SLACK_URL)
    channels.add_service(rt, admin, "teams", "teams", TEAMS_URL)
    channels.add_service(rt, admin, "discord", "discord", DISCORD_URL)
    channels.add_pagerduty(rt, admin, "pd", PD_KEY)
    (note,) = fire(rt, {"app_refused_statements_5m": 99.0})
    assert alerts.deliver_due(rt) == alerts.DeliveryReport(delivered=4)
    got = {r.service: r for r in (services.wait() for _ in range(4))}
    assert {s: r.error for s, r in got.items()} == dict.fromkeys(
        ("slack", "teams", "discord", "pagerduty")
    )
    key = f"petcare-{note.event_id}-firing-"
    slack = got["slack"].body
    assert "refused-statement-burst" in str(slack["attachments"]) and key in str(slack)
    discord = got["discord"].body  # `content` or `embeds`, as the receiver required
    assert "refused-statement-burst" in str(discord.get("content") or discord.get("embeds"))
    assert "refused-statement-burst" in str(got["teams"].body["attachments"][0]["content"])
    pd = got["pagerduty"].body
    assert pd["routing_key"] == PD_KEY and pd["event_action"] == "trigger"
    assert pd["payload"]["severity"] == "warning" and pd["payload"]["source"] == "petcare-dba"
    assert "refused-statement-burst" in pd["payload"]["summary"]
    assert pd["dedup_key"] == f"petcare-{note.event_id}"
    assert pd["payload"]["custom_details"]["idempotency_key"].startswith(key)
    # Resolving sends PagerDuty a resolve with the same dedup key.
    fire(rt, {"app_refused_statements_5m": 0.0})
    assert alerts.deliver_due(rt).delivered == 4
    resolved = {r.service: r for r in (services.wait() for _ in range(4))}
    assert resolved["pagerduty"].body["event_action"] == "resolve"
    assert resolved["pagerduty"].body["dedup_key"] == f"petcare-{note.event_id}"
    counts = {(c.channel_kind, c.outcome): c.count for c in alerts.delivery_counts(rt)}
    assert counts[("slack", "delivered")] == 2 and counts[("pagerduty", "delivered")] == 2


def test_the_webhook_is_signed_and_carries_text_and_structured_fields(
    rt: Runtime, admin: Actor
) -> None:
    receiver = Signed()
    try:
        receiver.secret = channels.add_webhook(rt, admin, "hook", receiver.url)
        (note,) = fire(rt, {"app_failed_logins_5m": 50.0})
        assert alerts.deliver_due(rt).delivered == 1
        body = receiver.got.get(timeout=5)
        assert receiver.drain(0.2) == []
    finally:
        receiver.close()
    assert body["text"].startswith("[petcare-dba] FIRING warning: failed-login-burst")
    assert body["rule"] == "failed-login-burst" and body["event_id"] == note.event_id
    assert body["event"] == "firing" and body["value"] == 50.0 and body["threshold"] == 20
    assert body["idempotency_key"] == body["_header_key"]
    assert body["idempotency_key"].startswith(f"petcare-{note.event_id}-firing-")
    assert receiver.bad == []
    # How a receiver verifies (the README's recipe), on a body we sign ourselves.
    raw = b'{"text":"x"}'
    expected = "sha256=" + hmac.new(receiver.secret.encode(), raw, hashlib.sha256).hexdigest()
    assert alerts.channels.formats.sign(receiver.secret, raw) == expected


def test_a_wrong_signing_secret_is_rejected_by_the_receiver_and_retried(
    rt: Runtime, admin: Actor
) -> None:
    receiver = Signed(secret="not-the-channel-secret")
    try:
        channels.add_webhook(rt, admin, "hook", receiver.url)
        fire(rt, {"app_failed_logins_5m": 50.0})
        assert alerts.deliver_due(rt) == alerts.DeliveryReport(retried=1)
    finally:
        receiver.close()
    assert len(receiver.bad) == 1 and receiver.got.empty()
    (row,) = outbox.rows(rt, admin)
    assert row.state == "pending" and row.attempts == 1 and "401" in (row.last_error or "")


def test_e_mail_goes_through_apprise_to_a_local_smtp_server(
    rt: Runtime, admin: Actor, mailbox: Mailbox
) -> None:
    channels.add_email(
        rt,
        admin,
        "mail",
        host="127.0.0.1",
        port=mailbox.port,
        sender="petcare@example.org",
        recipients=["dba@example.org", "oncall@example.org"],
    )
    (note,) = fire(rt, {"app_failed_logins_5m": 50.0})
    assert alerts.deliver_due(rt).delivered == 1
    rcpts, message = mailbox.messages.get(timeout=10)
    while not mailbox.messages.empty():  # Apprise may send one message per recipient
        more, _ = mailbox.messages.get()
        rcpts += more
    assert sorted(rcpts) == ["dba@example.org", "oncall@example.org"]
    assert message["Subject"] == "[petcare-dba] FIRING warning: failed-login-burst"
    assert "petcare@example.org" in message["From"]
    text = message.get_payload(decode=True) or b""
    if message.is_multipart():
        text = b"".join(p.get_payload(decode=True) or b"" for p in message.walk())
    assert b"failed-login-burst" in text and f"petcare-{note.event_id}".encode() in text


@pytest.mark.slow
def test_a_receiver_outage_is_retried_and_each_alert_arrives_exactly_once(
    rt: Runtime, admin: Actor
) -> None:
    # Short backoff for the test; the one-minute outage of the issue is the same code with the
    # defaults (5 s doubling to 60 s, 100 attempts, 6 hours): attempts at ~0, 4, 11, 26, 56 s,
    # then every 30-60 s (a 60 s run with the defaults is reported in the h7 hand-over).
    rt.settings = rt.settings.with_overrides(
        alert_retry_base_s=0.3, alert_retry_max_delay_s=0.8, alert_delivery_poll_s=0.1
    )
    receiver = Signed(secret="s" * 32)
    port, url = receiver.port, receiver.url
    channels.add_webhook(rt, admin, "hook", url, signing_secret="s" * 32)
    receiver.close()  # the receiver goes down
    for name in ("cpu-hot", "mem-hot", "disk-hot"):
        alerts.add_rule(rt, admin, name, "host_cpu_pct", ">", 50, scope="app")
    notes = fire(rt, {"host_cpu_pct": 90.0})
    assert len(notes) == 3
    alerts.deliver(rt, notes)  # wakes the delivery thread; returns at once
    time.sleep(2.5)
    down = outbox.rows(rt, admin)
    assert {r.state for r in down} == {"pending"} and min(r.attempts for r in down) >= 2
    assert all("t0ken" not in (r.last_error or "") for r in down)
    back = Signed(port=port, secret="s" * 32)  # up again on the same address
    try:
        got = back.drain(3.0)
    finally:
        back.close()
        deliverer.stop(rt)
    keys = [b["idempotency_key"] for b in got]
    assert sorted(b["rule"] for b in got) == ["cpu-hot", "disk-hot", "mem-hot"]
    assert len(keys) == len(set(keys)) == 3
    assert states(rt, admin) == {"delivered": 3}


def test_two_deliverers_never_send_one_row_twice(
    rt: Runtime, admin: Actor, test_settings: Any
) -> None:
    receiver = Signed(secret="k" * 32, delay_s=0.02)
    other = Runtime.start(test_settings)  # a second instance: its own pool
    try:
        for i in range(4):
            channels.add_webhook(rt, admin, f"hook-{i}", receiver.url, signing_secret="k" * 32)
        for name in ("r1", "r2", "r3"):
            alerts.add_rule(rt, admin, name, "host_mem_pct", ">", 50, scope="app")
        assert len(fire(rt, {"host_mem_pct": 99.0})) == 3
        reports: list[alerts.DeliveryReport] = []
        threads = [
            threading.Thread(target=lambda r=r: reports.append(alerts.deliver_due(r)))
            for r in (rt, other, rt, other)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        got = receiver.drain(0.5)
    finally:
        other.close()
        receiver.close()
    keys = [b["idempotency_key"] for b in got]
    assert len(keys) == len(set(keys)) == 12
    assert sum(r.delivered for r in reports) == 12
    assert sum(1 for r in reports if r.delivered) >= 2  # both instances did some of the work
    assert states(rt, admin) == {"delivered": 12}


def test_delivery_never_runs_on_the_sampling_thread(rt: Runtime, admin: Actor) -> None:
    # A receiver that never answers would hold a sending caller for alert_delivery_timeout_s.
    import socket

    silent = socket.create_server(("127.0.0.1", 0))
    try:
        rt.settings = rt.settings.with_overrides(alert_delivery_thread=False)
        channels.add_webhook(rt, admin, "slow", f"http://127.0.0.1:{silent.getsockname()[1]}/")
        started = time.monotonic()
        notes = fire(rt, {"app_failed_logins_5m": 50.0})
        alerts.deliver(rt, notes)  # what the collector calls after its commit
        assert time.monotonic() - started < 1.0
    finally:
        silent.close()
    assert states(rt, admin) == {"pending": 1}
