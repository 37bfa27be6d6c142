"""What a channel receives, and how each kind of channel is sent to.

A `Notification` is the alert as data. The generic webhook gets it as JSON with a
Slack-compatible `text` field, the structured fields and an `idempotency_key`, signed with
HMAC-SHA256 over the exact body bytes (`X-Petcare-Signature: sha256=<hex>`, key: the channel's
own secret, sealed at rest) and POSTed by `outbound.post`, our hardened sender: the signature must
cover the bytes sent, which only the code that writes them can promise. Slack, Microsoft Teams
(Power Automate workflows), Discord, PagerDuty (Events v2) and e-mail are formatted and sent by
Apprise, inside `outbound.guarded()`, so the destination policy holds for every host Apprise
resolves (redirects are also switched off). Texts lose control characters first (no header or
line injection through a rule or connection name), and a body over `alert_max_payload_bytes`
is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from petcare_dba.errors import Refused, Unavailable, ValidationError, redact
from petcare_dba.messages import say
from petcare_dba.services.alerts import outbound

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Petcare-Signature"
IDEMPOTENCY_HEADER = "X-Petcare-Idempotency-Key"
APPRISE_KINDS = ("slack", "teams", "discord", "pagerduty", "email")
# Fixed hosts of the hosted services; Teams and e-mail name their own.
SERVICE_HOSTS = {
    "slack": ("hooks.slack.com",),
    "discord": ("discord.com", "discordapp.com"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_MESSAGE_CHARS = 4000


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

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Notification:
        return cls(
            data["event"],
            data.get("event_id"),
            data["rule"],
            data["severity"],
            data.get("connection"),
            data["metric"],
            data.get("value"),
            data.get("threshold"),
            data["message"],
            data.get("started_at"),
        )


def clean(text: object, limit: int = 300) -> str:
    """One line of plain text: control characters (CR, LF, NUL...) become spaces; bounded."""
    return _CONTROL.sub(" ", str(text if text is not None else ""))[:limit]


def title(note: Notification) -> str:
    return clean(f"[petcare-dba] {note.kind.upper()} {note.severity}: {note.rule}", 200)


def text(note: Notification) -> str:
    """The human line every format carries (Slack's `text`, the e-mail body's first line)."""
    where = clean(note.connection, 100) if note.connection else "app"
    return f"{title(note)} [{where}] {clean(note.message, _MESSAGE_CHARS)}"


def webhook_body(note: Notification, key: str, sent_at: str) -> bytes:
    """The generic webhook's JSON: Slack-compatible `text` plus the structured fields."""
    payload = {
        "text": text(note),
        **note.as_payload(),
        "message": clean(note.message, _MESSAGE_CHARS),
        "idempotency_key": key,
        "sent_at": sent_at,
    }
    return json.dumps(payload, default=str, separators=(",", ":")).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    """The signature header value: `sha256=` + hex HMAC-SHA256 of the body with the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_webhook(settings: Any, secret: dict[str, str], note: Notification, key: str) -> None:
    """POST the signed JSON to the channel's URL (raises PetcareError on any failure)."""
    body = webhook_body(note, key, datetime.now(UTC).isoformat())
    headers = {IDEMPOTENCY_HEADER: key}
    if secret.get("hmac_secret"):
        headers[SIGNATURE_HEADER] = sign(secret["hmac_secret"], body)
    outbound.post(settings, secret["url"], body, settings.alert_delivery_timeout_s, headers)


def _params(settings: Any, **extra: str) -> str:
    timeout = f"{float(settings.alert_delivery_timeout_s):g}"
    values = {"redirect": "no", "cto": timeout, "rto": timeout, **extra}
    return urlencode(values, quote_via=quote)


def apprise_url(
    settings: Any, kind: str, config: dict[str, Any], secret: str, note: Notification, key: str
) -> str:
    """The Apprise URL of one notification to one channel (holds the secret: never logged)."""
    if kind == "pagerduty":
        action = "resolve" if note.kind == "resolved" else "trigger"
        # PagerDuty de-duplicates on dedup_key: the event's trigger and resolve share one.
        dedup = f"petcare-{note.event_id}" if note.event_id is not None else key
        details = {
            f"+{name}": clean(value)
            for name, value in note.as_payload().items()
            if value is not None and name != "message"
        }
        details["+idempotency_key"] = key
        query = _params(
            settings,
            region=str(config.get("region") or "us"),
            severity="critical" if note.severity == "critical" else "warning",
            action=action,
            dedup=dedup,
            **details,
        )
        source = quote(clean(config.get("source") or "petcare-dba", 100), safe="")
        component = quote(clean(note.connection or "app", 100), safe="")
        routing = quote(secret, safe="")  # Events v2 needs only the routing key
        return f"pagerduty://{routing}@{routing}/{source}/{component}?{query}"
    if kind == "email":
        mode = "starttls" if config.get("starttls") else "insecure"
        auth = ""
        if config.get("username"):
            auth = f"{quote(config['username'], safe='')}:{quote(secret, safe='')}@"
        host = str(config["host"])
        netloc = f"[{host}]" if ":" in host else host
        query = _params(
            settings,
            **{"from": config["sender"], "to": ",".join(config["recipients"]), "mode": mode},
        )
        scheme = "mailtos" if mode != "insecure" else "mailto"
        return f"{scheme}://{auth}{netloc}:{int(config['port'])}?{query}"
    # slack, discord, teams: the service's own webhook URL, which Apprise parses natively.
    sep = "&" if urlsplit(secret).query else "?"
    return f"{secret}{sep}{_params(settings)}"


def apprise_body(kind: str, note: Notification, key: str) -> str:
    """The body text Apprise formats for the service (fields as lines, the key last)."""
    fields = [
        ("connection", note.connection or "app"),
        ("metric", note.metric),
        ("value", note.value),
        ("threshold", note.threshold),
        ("started", note.started_at),
    ]
    lines = [clean(note.message, _MESSAGE_CHARS)]
    lines += [f"{name}: {clean(value, 200)}" for name, value in fields if value is not None]
    lines.append(f"idempotency key: {key}")
    if kind == "pagerduty":  # payload.summary: one line, at most 1024 characters
        return clean(f"{text(note)}", 1024)
    return "\n".join(lines)


def load_apprise() -> Any:
    """Apprise, its plugins loaded once (quietly: one of them imports the deprecated imghdr)."""
    import warnings

    import apprise  # imported here: only processes that deliver pay for it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        apprise.plugins.N_MGR.load_modules()
    return apprise


def send_apprise(
    settings: Any, kind: str, config: dict[str, Any], secret: str, note: Notification, key: str
) -> None:
    """Format and send through Apprise under the outbound policy; raise on failure."""
    apprise = load_apprise()
    url = apprise_url(settings, kind, config, secret, note, key)
    body = apprise_body(kind, note, key)
    limit = int(settings.alert_max_payload_bytes)
    if len(body.encode("utf-8")) > limit:
        raise ValidationError(say("msg.outbound.over_limit", limit=limit))
    # Sequential: the send must run on this thread, where `outbound.guarded` holds.
    asset = apprise.AppriseAsset(async_mode=False)
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if not plugin:
        raise ValidationError(say("msg.outbound.stored_url", kind=kind))
    sender = apprise.Apprise(asset=asset)
    sender.add(plugin)
    notify_type = (
        apprise.NotifyType.SUCCESS
        if note.kind == "resolved"
        else apprise.NotifyType.FAILURE
        if note.severity == "critical"
        else apprise.NotifyType.WARNING
    )
    with (
        apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs,
        outbound.guarded(settings) as refusals,
    ):
        ok = sender.notify(body=body, title=title(note), notify_type=notify_type)
    if ok:
        return
    if refusals:
        raise Refused(refusals[0], hint="outbound_allow names what deliveries may reach")
    detail = [scrub(line, secret) for line in str(logs.getvalue()).splitlines() if line.strip()]
    log.warning("alert channel (%s): Apprise could not send: %s", kind, " | ".join(detail))
    reason = next((d for d in reversed(detail) if "error" in d.lower() or "fail" in d.lower()), "")
    raise Unavailable(f"{kind} delivery failed: {reason[:200]}" if reason else outbound.UNREACHABLE)


def scrub(line: str, secret: str) -> str:
    """A log line of Apprise without the channel's secret, its URL's parts or any URL."""
    out = line
    pieces = [secret, *re.split(r"[/?&=:@]+", secret)] if secret else []
    for piece in sorted({p for p in pieces if len(p) >= 6}, key=len, reverse=True):
        out = out.replace(piece, "…")
    return re.sub(r"\S+://\S+", "(url)", redact(out))
