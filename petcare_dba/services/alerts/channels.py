"""Notification channels of alerts: kinds, adding and removing them, sending one notification.

Kinds: `webhook` (signed JSON POST), `email` (SMTP), `slack`, `teams`, `discord`, `pagerduty`
(the last four and e-mail formatted by Apprise: see `formats`). What may hold a token (a webhook
or service URL, a routing key, an SMTP password, the webhook's HMAC key) is sealed with the
keyring (AES-GCM, bound to the channel name); only a secret-free summary is stored in clear.
Destinations typed by an admin are checked against the outbound policy when added and again at
every delivery; e-mail addresses are validated when a channel is added; a failing channel never
stops the others. Every attempt is recorded in `alert_deliveries`, which feeds the
alert-delivery health component, the channel list and the delivery counters. Channels are
admin-only (RLS). Alerts reach channels through the outbox (`outbox`); `deliver` here sends at
once and is what `send_test` and the outbox use.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from petcare_dba.errors import NotFound, PetcareError, ValidationError, redact
from petcare_dba.messages import recognised_in, say
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import formats, outbound
from petcare_dba.services.alerts.formats import Notification
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users

log = logging.getLogger(__name__)
# One plain address (local@domain), no display name, no separators, no control characters:
# anything else could add headers or recipients to the message.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$"
)


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    last_delivery_at: datetime | None
    last_delivery_ok: bool | None
    last_delivery_error: str | None


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    error: str | None = None
    permanent: bool = False  # a failure no retry can change (the outbox gives up at once)


def purpose(name: str) -> str:
    """The associated data a channel's secret is sealed with (key rotation re-seals by it)."""
    return f"alert_channel:{name}"


def _insert(
    rt: Runtime, actor: Actor, name: str, kind: str, config: dict[str, Any], secret: str
) -> int:
    actor.require("admin", say("msg.access.adding_alert_channels"))
    sealed = rt.keyring.seal(secret, purpose(name)) if secret else None
    try:
        with rt.store.tx(actor.identity) as tx:
            channel_id = int(
                tx.value(
                    "alert_channel_insert",
                    {
                        "name": name,
                        "kind": kind,
                        "config": json.dumps(config),
                        "secret_enc": sealed,
                        "key_version": rt.keyring.current_version if sealed else None,
                    },
                )
            )
    except PetcareError as exc:
        if exc.sqlstate == "23505":
            raise ValidationError(say("msg.alerts.channel_exists", name=repr(name))) from exc
        if exc.sqlstate == "23514":
            raise ValidationError(say("msg.alerts.channel_name", name=repr(name))) from exc
        raise
    audit.record(rt.store, actor, "alert.channel.add", "ok", target=name, detail=config)
    return channel_id


def add_webhook(
    rt: Runtime, actor: Actor, name: str, url: str, *, signing_secret: str | None = None
) -> str:
    """A webhook channel: alerts are POSTed as signed JSON to `url` (http or https).

    Returns the HMAC-SHA256 signing secret (generated unless given): shown once to the admin,
    who configures the receiver with it; it is stored sealed and never shown again.
    """
    actor.require("admin", say("msg.access.adding_alert_channels"))
    outbound.check_url(rt.settings, url)  # refuses denied destinations before anything is stored
    key = signing_secret or secrets.token_urlsafe(32)
    if len(key) < 16 or formats.clean(key) != key:
        raise ValidationError(say("msg.alerts.secret"))
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/…"
    config = {"endpoint": shown, "signature": formats.SIGNATURE_HEADER}
    _insert(rt, actor, name, "webhook", config, json.dumps({"url": url, "hmac_secret": key}))
    return key


def _service_url(rt: Runtime, kind: str, url: str) -> str:
    """Check a Slack, Teams or Discord webhook URL: https, the service's host, Apprise's kind."""
    apprise = formats.load_apprise()
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or formats.clean(url) != url.strip():
        raise ValidationError(say("msg.alerts.https", kind=kind))
    hosts = formats.SERVICE_HOSTS.get(kind)
    if hosts is not None and parts.hostname.lower() not in hosts:
        raise ValidationError(say("msg.alerts.host", kind=kind, hosts=" or ".join(hosts)))
    if hosts is None:  # Teams: the workflow's host is the admin's choice, so it is checked
        outbound.check_url(rt.settings, url)
    plugin = apprise.Apprise.instantiate(url.strip())
    expected = {"slack": "NotifySlack", "discord": "NotifyDiscord", "teams": "NotifyWorkflows"}
    if plugin is None or type(plugin).__name__ != expected[kind]:
        raise ValidationError(say("msg.alerts.not_service", kind=kind))
    return url.strip()


def add_service(rt: Runtime, actor: Actor, name: str, kind: str, url: str) -> int:
    """A Slack, Microsoft Teams (Power Automate workflow) or Discord channel from its URL."""
    actor.require("admin", say("msg.access.adding_alert_channels"))
    if kind not in ("slack", "teams", "discord"):
        raise ValidationError(say("msg.alerts.service_kind"))
    checked = _service_url(rt, kind, url)
    host = urlsplit(checked).hostname
    return _insert(rt, actor, name, kind, {"endpoint": f"https://{host}/…"}, checked)


def add_pagerduty(
    rt: Runtime,
    actor: Actor,
    name: str,
    routing_key: str,
    *,
    region: str = "us",
    source: str = "petcare-dba",
) -> int:
    """A PagerDuty channel (Events API v2) from a service's integration (routing) key."""
    actor.require("admin", say("msg.access.adding_alert_channels"))
    if not re.fullmatch(r"[A-Za-z0-9]{20,64}", routing_key or ""):
        raise ValidationError(say("msg.alerts.routing_key"))
    if region not in ("us", "eu"):
        raise ValidationError(say("msg.alerts.region"))
    config = {"region": region, "source": formats.clean(source, 100) or "petcare-dba"}
    return _insert(rt, actor, name, "pagerduty", config, routing_key)


def add_email(
    rt: Runtime,
    actor: Actor,
    name: str,
    *,
    host: str,
    port: int,
    sender: str,
    recipients: list[str],
    starttls: bool = False,
    username: str = "",
    password: str = "",
) -> int:
    """An e-mail channel through an SMTP server."""
    bad = [a for a in [sender, *recipients] if not _ADDRESS.match(a) or len(a) > 254]
    if not recipients or bad:
        raise ValidationError(
            say("msg.alerts.address", address=ascii(bad[0]))
            if bad
            else say("msg.alerts.no_recipient"),
            hint=say("msg.alerts.address.hint"),
        )
    if not host or any(ord(c) < 33 for c in host):
        raise ValidationError(say("msg.alerts.smtp_host"))
    config = {
        "host": host,
        "port": int(port),
        "sender": sender,
        "recipients": recipients,
        "starttls": starttls,
        "username": username,
    }
    return _insert(rt, actor, name, "email", config, password)


def list_channels(rt: Runtime, actor: Actor) -> list[Channel]:
    """Channels with their last delivery (admins see them; others get an empty list)."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("alert_channels_list")
    return [
        Channel(**{**r, "last_delivery_error": recognised_in(r["last_delivery_error"])})
        for r in rows
    ]


def remove(rt: Runtime, actor: Actor, name: str) -> None:
    """Delete a channel (admins); audited."""
    actor.require("admin", say("msg.access.removing_alert_channels"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_channel_delete", {"name": name}) is None:
            raise NotFound(say("msg.alerts.no_channel", name=repr(name)))
    audit.record(rt.store, actor, "alert.channel.remove", "ok", target=name)


def _check_addresses(config: dict[str, Any]) -> None:
    """Again at send time: a row written around the service must not add recipients."""
    found = [config.get("sender", ""), *config.get("recipients", [])]
    if not config.get("recipients") or any(
        not isinstance(a, str) or not _ADDRESS.match(a) or len(a) > 254 for a in found
    ):
        raise ValidationError(say("msg.alerts.stored_addresses"))


def send_one(rt: Runtime, row: dict[str, Any], note: Notification, key: str) -> Delivery:
    """Send one notification through one channel row (never raises: the outcome says)."""
    try:
        secret = (
            rt.keyring.open(bytes(row["secret_enc"]), purpose(row["name"]))
            if row["secret_enc"]
            else ""
        )
        if row["kind"] == "webhook":
            # Channels added before signing keep a bare URL: they are sent unsigned.
            data = json.loads(secret) if secret.startswith("{") else {"url": secret}
            formats.send_webhook(rt.settings, data, note, key)
        else:
            if row["kind"] == "email":
                _check_addresses(row["config"])
            formats.send_apprise(rt.settings, row["kind"], row["config"], secret, note, key)
    except ValidationError as exc:  # nothing a retry could change: too large, bad address
        log.warning("alert channel %r: %s", row["name"], exc.message)
        return Delivery(row["name"], False, redact(exc.message)[:500], permanent=True)
    except PetcareError as exc:
        log.warning("alert channel %r: %s", row["name"], exc.message)
        return Delivery(row["name"], False, redact(exc.message)[:500])
    except Exception:  # one bad channel must never stop the others; the detail goes to the log
        log.exception("alert channel %r: delivery failed", row["name"])
        return Delivery(row["name"], False, outbound.UNREACHABLE)
    return Delivery(row["name"], True)


def record_attempt(tx: Any, channel_id: int, note: Notification, d: Delivery) -> None:
    """One row of `alert_deliveries` (health, channel list, delivery counters)."""
    tx.execute(
        "alert_delivery_insert",
        {
            "channel": channel_id,
            "event": note.event_id,
            "kind": note.kind,
            "ok": d.ok,
            "error": d.error,
        },
    )


def deliver(rt: Runtime, notes: list[Notification]) -> list[Delivery]:
    """Send each notification to every enabled channel, recording each attempt."""
    actor = dataclasses.replace(users.actor_for(rt, None), session_id="alerts")
    with rt.store.tx(actor.identity) as tx:
        rows = [r for r in tx.all("alert_channels_secrets", {"name": None}) if r["enabled"]]
    out: list[Delivery] = []
    for note in notes:
        for row in rows:
            result = send_one(rt, row, note, f"now-{note.event_id}-{note.kind}-{row['id']}")
            try:
                with rt.store.tx(actor.identity) as tx:
                    record_attempt(tx, int(row["id"]), note, result)
            except PetcareError:
                log.exception("alert channel %r: could not record the delivery", row["name"])
            out.append(result)
    return out


def send_test(rt: Runtime, actor: Actor, name: str) -> Delivery:
    """Send a test notification through one channel (admins); recorded and audited."""
    actor.require("admin", say("msg.access.testing_alert_channels"))
    with rt.store.tx(actor.identity) as tx:
        rows = [r for r in tx.all("alert_channels_secrets", {"name": name}) if r["name"] == name]
    if not rows:
        raise NotFound(say("msg.alerts.no_channel", name=repr(name)))
    note = Notification(
        "test",
        None,
        "test",
        "warning",
        None,
        "test",
        None,
        None,
        f"Test notification from petcare-dba sent by {actor.username}.",
        datetime.now(UTC).isoformat(),
    )
    result = send_one(rt, rows[0], note, f"test-{secrets.token_hex(8)}")
    with rt.store.tx(actor.identity) as tx:
        record_attempt(tx, int(rows[0]["id"]), note, result)
    audit.record(
        rt.store,
        actor,
        "alert.channel.test",
        "ok" if result.ok else "error",
        target=name,
        detail={"error": result.error} if result.error else {},
    )
    return result
