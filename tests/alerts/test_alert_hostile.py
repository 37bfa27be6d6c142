"""Hostile destinations and payloads for the Apprise-formatted channels: other schemes and hosts,
redirects to the metadata service, names that resolve (or are routed) to private addresses,
oversized notifications, line breaks in names, and secrets kept out of stored errors."""

from __future__ import annotations

from typing import Any

import pytest

from petcare_dba.errors import Refused, ValidationError
from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbound, outbox
from petcare_dba.services.runtime import Runtime
from tests.alerts.fix_receivers import (
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
from tests.alerts.test_alert_delivery import fire

__all__ = ["_tls_files", "mailbox", "services"]


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name the outbound policy resolved (the guard's only way to a network)."""
    seen: list[str] = []
    real = outbound._real_getaddrinfo

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound, "_real_getaddrinfo", spy)
    return seen


HOSTILE_URLS = (
    ("slack", "file:///etc/passwd"),
    ("slack", "gopher://hooks.slack.com:70/_POST%20/"),
    ("slack", "http://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("slack", "https://evil.example/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("slack", "https://hooks.slack.com.evil.example/services/T0/B0/X0"),
    ("slack", "json://127.0.0.1:8080/"),
    ("slack", "windows://"),
    ("slack", SLACK_URL + "\r\nX-Evil: 1"),
    ("discord", "https://discord.com@169.254.169.254/api/webhooks/1/x"),
    ("discord", "https://discord.com/not/a/webhook"),
    ("teams", "https://169.254.169.254/workflows/abc/triggers/manual/paths/invoke?sig=x"),
    ("teams", "https://10.0.0.5/workflows/abc/triggers/manual/paths/invoke?sig=x"),
)


def test_service_urls_of_other_schemes_hosts_or_private_addresses_are_refused(
    rt: Runtime, admin: Actor
) -> None:
    # One store for every case (each would otherwise pay for its own metadata database).
    for kind, url in HOSTILE_URLS:
        with pytest.raises((ValidationError, Refused)):
            channels.add_service(rt, admin, kind, kind, url)
    assert channels.list_channels(rt, admin) == []


def test_a_teams_host_that_resolves_to_loopback_is_refused_under_the_default_policy(
    rt: Runtime, admin: Actor
) -> None:
    rt.settings = rt.settings.with_overrides(outbound_allow="")
    # A Logic Apps host name routed to loopback (what a hostile DNS answer would do).
    rt.settings = rt.settings.with_overrides(
        outbound_allow="", alert_connect_to="prod-00.westeurope.logic.azure.com:443=localhost:443"
    )
    with pytest.raises(Refused, match="outbound_allow"):
        channels.add_service(rt, admin, "teams", "teams", TEAMS_URL)


def test_a_redirect_to_the_metadata_service_is_not_followed(
    rt: Runtime, admin: Actor, services: Services, lookups: list[str]
) -> None:
    rt.settings = rt.settings.with_overrides(alert_connect_to=services.connect_to())
    services.redirect_to = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    channels.add_service(rt, admin, "slack", "slack", SLACK_URL)
    channels.add_pagerduty(rt, admin, "pd", PD_KEY)
    fire(rt, {"app_failed_logins_5m": 50.0})
    assert alerts.deliver_due(rt) == alerts.DeliveryReport(retried=2)
    assert [services.wait().service for _ in range(2)] == ["redirect", "redirect"]
    assert services.got.empty()
    assert "169.254.169.254" not in lookups and "hooks.slack.com" not in lookups


def test_a_service_host_routed_to_a_private_address_is_refused_before_connecting(
    rt: Runtime, admin: Actor, lookups: list[str]
) -> None:
    # hooks.slack.com "resolving" to 10.1.2.3 (here through the routing setting, as a poisoned
    # resolver or a hostile relay entry would): outbound_allow names only 127.0.0.1.
    rt.settings = rt.settings.with_overrides(alert_connect_to="hooks.slack.com:443=10.1.2.3:443")
    channels.add_service(rt, admin, "slack", "slack", SLACK_URL)
    fire(rt, {"app_failed_logins_5m": 50.0})
    assert alerts.deliver_due(rt) == alerts.DeliveryReport(retried=1)
    (row,) = outbox.rows(rt, admin)
    assert "outbound_allow" in (row.last_error or "") and lookups == ["10.1.2.3"]


def test_a_name_resolving_to_loopback_is_refused_at_delivery_under_the_default_policy(
    rt: Runtime, admin: Actor, services: Services
) -> None:
    rt.settings = rt.settings.with_overrides(alert_connect_to=services.connect_to())
    channels.add_service(rt, admin, "slack", "slack", SLACK_URL)
    rt.settings = rt.settings.with_overrides(
        outbound_allow="", alert_connect_to=f"hooks.slack.com:443=localhost:{services.port}"
    )
    fire(rt, {"app_failed_logins_5m": 50.0})
    assert alerts.deliver_due(rt).retried == 1
    assert services.got.empty()
    assert "outbound_allow" in (outbox.rows(rt, admin)[0].last_error or "")


def test_an_oversized_notification_is_refused_not_sent(
    rt: Runtime, admin: Actor, services: Services
) -> None:
    rt.settings = rt.settings.with_overrides(
        alert_connect_to=services.connect_to(), alert_max_payload_bytes=1024
    )
    receiver = Signed()
    try:
        receiver.secret = channels.add_webhook(rt, admin, "hook", receiver.url)
        channels.add_service(rt, admin, "slack", "slack", SLACK_URL)
        alerts.add_rule(
            rt, admin, "wordy", "host_cpu_pct", ">", 1, scope="app", description="x" * 5000
        )
        fire(rt, {"host_cpu_pct": 50.0})
        assert alerts.deliver_due(rt) == alerts.DeliveryReport(dead=2)
        assert receiver.drain(0.2) == []
    finally:
        receiver.close()
    assert services.got.empty()
    assert all("alert_max_payload_bytes" in (r.last_error or "") for r in outbox.rows(rt, admin))


def test_channel_names_cannot_carry_line_breaks_or_odd_characters(
    rt: Runtime, admin: Actor
) -> None:
    for name in ["ops\r\nX-Evil: 1", "ops\nhook", "Ops", "a" * 80, "-x"]:
        with pytest.raises(ValidationError):
            channels.add_pagerduty(rt, admin, name, PD_KEY)
    assert channels.list_channels(rt, admin) == []


def test_line_breaks_in_alert_texts_cannot_add_mail_headers_or_recipients(
    rt: Runtime, admin: Actor, mailbox: Mailbox
) -> None:
    channels.add_email(
        rt,
        admin,
        "mail",
        host="127.0.0.1",
        port=mailbox.port,
        sender="petcare@example.org",
        recipients=["dba@example.org"],
    )
    note = alerts.Notification(
        "firing",
        None,
        "rule\r\nBcc: evil@evil.example",
        "warning\r\nX-Evil: 1",
        "db\r\nTo: boss@evil.example",
        "m",
        1.0,
        0.0,
        "line one\r\n.\r\nMAIL FROM:<x@evil.example>",
    )
    (result,) = channels.deliver(rt, [note])
    assert result.ok, result.error
    rcpts, message = mailbox.messages.get(timeout=10)
    assert rcpts == ["dba@example.org"] and mailbox.messages.empty()
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in str(message["Subject"]) and "evil" not in str(message["To"])


def test_a_routing_key_never_lands_in_a_stored_error(rt: Runtime, admin: Actor) -> None:
    # Nothing listens on the routed port: Apprise's own log line names the routing key.
    rt.settings = rt.settings.with_overrides(
        alert_connect_to="events.pagerduty.com:443=127.0.0.1:9"
    )
    channels.add_pagerduty(rt, admin, "pd", PD_KEY)
    fire(rt, {"app_failed_logins_5m": 50.0})
    assert alerts.deliver_due(rt).retried == 1
    (row,) = outbox.rows(rt, admin)
    stored = str(channels.list_channels(rt, admin)) + str(row)
    assert row.last_error and PD_KEY not in stored


def test_service_urls_and_keys_never_come_from_argv(
    test_settings: Any, rt: Runtime, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from petcare_dba.cli import app

    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    token = SLACK_URL.rsplit("/", 1)[1]
    refused = runner.invoke(app, ["alerts", "add-slack", "s", SLACK_URL])
    assert refused.exit_code == 2 and token not in refused.output
    refused = runner.invoke(app, ["alerts", "add-pagerduty", "pd", PD_KEY])
    assert refused.exit_code == 2 and PD_KEY not in refused.output
    assert channels.list_channels(rt, admin) == []
    added = runner.invoke(app, ["alerts", "add-slack", "s", "-"], input=SLACK_URL + "\n")
    assert added.exit_code == 0 and token not in added.output, added.output
    monkeypatch.setenv("PETCARE_PAGERDUTY_KEY", PD_KEY)
    assert runner.invoke(app, ["alerts", "add-pagerduty", "pd", "--region", "eu"]).exit_code == 0
    hook = runner.invoke(app, ["alerts", "add-webhook", "h", "-"], input="http://127.0.0.1:9/x\n")
    assert hook.exit_code == 0 and "signing secret (shown once): " in hook.output
    listed = {c.name: c for c in channels.list_channels(rt, admin)}
    assert {n: c.kind for n, c in listed.items()} == {
        "h": "webhook",
        "pd": "pagerduty",
        "s": "slack",
    }
    assert listed["pd"].config["region"] == "eu" and PD_KEY not in str(listed)
    assert token not in str(listed)
