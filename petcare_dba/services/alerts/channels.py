"""Notification channels of alerts: webhook (JSON POST) and e-mail (SMTP), with "send test".

A webhook's URL may carry a token and an SMTP account a password, so that part of a channel is
sealed with the keyring (AES-GCM, bound to the channel name) and only a password-free summary is
stored in clear. Delivery goes through `outbound` (destination policy checked before connecting,
one total deadline `alert_delivery_timeout_s`, no redirects, errors that do not say what listens);
e-mail addresses are validated when a channel is added; a failing channel never stops the
others. Every attempt is recorded in `alert_deliveries`, which feeds the alert-delivery health
component and the channel list. Channels are admin-only (RLS).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from petcare_dba.errors import NotFound, PetcareError, ValidationError, redact
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import outbound
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users

log = logging.getLogger(__name__)
# One plain address (local@domain), no display name, no separators, no control characters:
# anything else could add headers or recipients to the message.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$"
)


@dataclass(frozen=True)
class Notification:
    """What a channel receives when an event fires or resolves (or a test)."""

    kind: str
    event_id: int | None
    rule: str
    severity: str
    connection: str | None
    metric: str
    value: float | None
    threshold: float | None
    message: str
    started_at: str | None = None

    def as_payload(self) -> dict[str, Any]:
        return {
            "source": "petcare-dba",
            "event": self.kind,
            "event_id": self.event_id,
            "rule": self.rule,
            "severity": self.severity,
            "connection": self.connection,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "started_at": self.started_at,
        }


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


def _purpose(name: str) -> str:
    return f"alert_channel:{name}"


def _insert(
    rt: Runtime, actor: Actor, name: str, kind: str, config: dict[str, Any], secret: str
) -> int:
    actor.require("admin", "adding alert channels")
    sealed = rt.keyring.seal(secret, _purpose(name)) if secret else None
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
            raise ValidationError(f"a channel named {name!r} already exists") from exc
        if exc.sqlstate == "23514":
            raise ValidationError(f"channel name {name!r}: lowercase letters, digits, - _") from exc
        raise
    audit.record(rt.store, actor, "alert.channel.add", "ok", target=name, detail=config)
    return channel_id


def add_webhook(rt: Runtime, actor: Actor, name: str, url: str) -> int:
    """A webhook channel: alerts are POSTed as JSON to `url` (http or https)."""
    actor.require("admin", "adding alert channels")
    outbound.check_url(rt.settings, url)  # refuses denied destinations before anything is stored
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/…"
    return _insert(rt, actor, name, "webhook", {"endpoint": shown}, url)


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
            f"not a plain e-mail address: {ascii(bad[0]) if bad else '(no recipient)'}",
            hint="one address per recipient, like dba@example.org (no names, commas, line breaks)",
        )
    if not host or any(ord(c) < 33 for c in host):
        raise ValidationError("the SMTP host must be a host name or address")
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
        return [Channel(**r) for r in tx.all("alert_channels_list")]


def remove(rt: Runtime, actor: Actor, name: str) -> None:
    """Delete a channel (admins); audited."""
    actor.require("admin", "removing alert channels")
    with rt.store.tx(actor.identity) as tx:
        if tx.value("alert_channel_delete", {"name": name}) is None:
            raise NotFound(f"no alert channel named {name!r}")
    audit.record(rt.store, actor, "alert.channel.remove", "ok", target=name)


def _mail(
    rt: Runtime, config: dict[str, Any], password: str, note: Notification, timeout: float
) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"[petcare-dba] {note.kind.upper()} {note.severity}: {note.rule}"
    msg["From"] = config["sender"]
    msg["To"] = ", ".join(config["recipients"])
    msg.set_content(
        f"{note.message}\n\n" + json.dumps(note.as_payload(), indent=2, default=str) + "\n"
    )
    with outbound.smtp(rt.settings, config["host"], int(config["port"]), timeout) as smtp:
        if config.get("starttls"):
            smtp.starttls()
        if config.get("username"):
            smtp.login(config["username"], password)
        smtp.send_message(msg)


def _send(rt: Runtime, row: dict[str, Any], note: Notification) -> Delivery:
    timeout = rt.settings.alert_delivery_timeout_s
    try:
        secret = (
            rt.keyring.open(bytes(row["secret_enc"]), _purpose(row["name"]))
            if row["secret_enc"]
            else ""
        )
        if row["kind"] == "webhook":
            body = json.dumps(note.as_payload(), default=str).encode("utf-8")
            outbound.post(rt.settings, secret, body, timeout)
        else:
            _mail(rt, row["config"], secret, note, timeout)
    except PetcareError as exc:
        log.warning("alert channel %r: %s", row["name"], exc.message)
        return Delivery(row["name"], False, redact(exc.message)[:500])
    except Exception:  # one bad channel must never stop the others; the detail goes to the log
        log.exception("alert channel %r: delivery failed", row["name"])
        return Delivery(row["name"], False, outbound.UNREACHABLE)
    return Delivery(row["name"], True)


def _record(rt: Runtime, actor: Actor, channel_id: int, note: Notification, d: Delivery) -> None:
    with rt.store.tx(actor.identity) as tx:
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
            result = _send(rt, row, note)
            try:
                _record(rt, actor, int(row["id"]), note, result)
            except PetcareError:
                log.exception("alert channel %r: could not record the delivery", row["name"])
            out.append(result)
    return out


def send_test(rt: Runtime, actor: Actor, name: str) -> Delivery:
    """Send a test notification through one channel (admins); recorded and audited."""
    actor.require("admin", "testing alert channels")
    with rt.store.tx(actor.identity) as tx:
        rows = [r for r in tx.all("alert_channels_secrets", {"name": name}) if r["name"] == name]
    if not rows:
        raise NotFound(f"no alert channel named {name!r}")
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
    result = _send(rt, rows[0], note)
    _record(rt, actor, int(rows[0]["id"]), note, result)
    audit.record(
        rt.store,
        actor,
        "alert.channel.test",
        "ok" if result.ok else "error",
        target=name,
        detail={"error": result.error} if result.error else {},
    )
    return result
