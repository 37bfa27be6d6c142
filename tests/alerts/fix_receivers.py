"""Local receivers that check each alert format's required fields.

`services` is ONE HTTPS server (a throw-away CA and certificate for the services' host names)
standing in for Slack, Discord, PagerDuty and a Teams workflow host. The runtime reaches it
through `alert_connect_to` (hooks.slack.com:443 -> 127.0.0.1:<port>, ...), so Apprise builds
and sends the real request to the real host name, TLS verifies that name against the test CA
(REQUESTS_CA_BUNDLE), and the receiver validates the body like the service would, answering
400 when a required field is missing. `signed` is a plain-HTTP generic-webhook receiver that
verifies the HMAC signature; `mailbox` an aiosmtpd SMTP server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import queue
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOSTS = (
    "hooks.slack.com",
    "discord.com",
    "events.pagerduty.com",
    "prod-00.westeurope.logic.azure.com",
)
TEAMS_URL = (
    "https://prod-00.westeurope.logic.azure.com/workflows/643e69f83c8944438d68119179a10a64/"
    "triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0"
)
SLACK_URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
DISCORD_URL = "https://discord.com/api/webhooks/123456789012345678/abcdefABCDEF-_abcdefABCDEF"
PD_KEY = "0123456789abcdef0123456789abcdef"


def _slack(body: dict[str, Any]) -> str | None:
    # Slack: `text`, or `blocks`, or legacy `attachments` each with text/fallback/blocks.
    if isinstance(body.get("text"), str) and body["text"].strip():
        return None
    if isinstance(body.get("blocks"), list) and body["blocks"]:
        return None
    attachments = body.get("attachments")
    if isinstance(attachments, list) and attachments:
        if all(a.get("text") or a.get("fallback") or a.get("blocks") for a in attachments):
            return None
    return "no_text"


def _discord(body: dict[str, Any]) -> str | None:
    content, embeds = body.get("content"), body.get("embeds")
    if isinstance(content, str) and len(content) > 2000:
        return "content longer than 2000"
    if isinstance(embeds, list) and len(embeds) > 10:
        return "more than 10 embeds"
    if isinstance(embeds, list) and embeds:
        if all(e.get("title") or e.get("description") for e in embeds):
            return None
        return "empty embed"
    return None if isinstance(content, str) and content.strip() else "Cannot send an empty message"


def _pagerduty(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("routing_key"), str) or len(body["routing_key"]) != 32:
        return "Invalid Routing Key"
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        return "Invalid event_action"
    if action != "trigger":
        return None if body.get("dedup_key") else "dedup_key is required"
    payload = body.get("payload") or {}
    if not payload.get("summary") or len(payload["summary"]) > 1024:
        return "payload.summary is missing or too long"
    if payload.get("severity") not in ("critical", "error", "warning", "info"):
        return "payload.severity is invalid"
    return None if payload.get("source") else "payload.source is missing"


def _teams(body: dict[str, Any]) -> str | None:
    attachments = body.get("attachments") or []
    cards = [
        a.get("content") or {}
        for a in attachments
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]
    if body.get("type") != "message" or not cards:
        return "not a message with an adaptive card"
    card = cards[0]
    return None if card.get("type") == "AdaptiveCard" and card.get("body") else "empty card"


CHECKS = {
    "hooks.slack.com": ("slack", _slack),
    "discord.com": ("discord", _discord),
    "events.pagerduty.com": ("pagerduty", _pagerduty),
    "prod-00.westeurope.logic.azure.com": ("teams", _teams),
}


@dataclass
class Received:
    service: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    error: str | None


@dataclass
class Services:
    port: int
    ca_file: str
    got: queue.Queue[Received] = field(default_factory=queue.Queue)
    redirect_to: str | None = None

    def connect_to(self) -> str:
        return ",".join(f"{h}:443=127.0.0.1:{self.port}" for h in HOSTS)

    def wait(self, timeout: float = 10.0) -> Received:
        return self.got.get(timeout=timeout)


def _certificate(tmp: Path) -> tuple[str, str, str]:
    """A CA and a server certificate for HOSTS; (ca file, cert file, key file)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "petcare test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), False)
        .sign(ca_key, hashes.SHA256())
    )
    files = (tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(files[0]), str(files[1]), str(files[2])


@pytest.fixture(scope="session")
def _tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    return _certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def services(
    _tls_files: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    ca_file, cert_file, key_file = _tls_files
    state = Services(0, ca_file)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.redirect_to:
                self.send_response(307)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                state.got.put(Received("redirect", self.path, dict(self.headers), {}, None))
                return
            service, check = CHECKS.get(host, ("unknown", lambda b: "unknown host"))
            try:
                body = json.loads(raw)
                error = check(body)
            except ValueError:
                body, error = {}, "not JSON"
            state.got.put(Received(service, self.path, dict(self.headers), body, error))
            if error:
                self.send_response(400)
                self.send_header("Content-Length", str(len(error)))
                self.end_headers()
                self.wfile.write(error.encode())
                return
            # What each service answers on success (Slack's webhook says a plain "ok").
            answer = b"ok" if service == "slack" else b'{"status":"success"}'
            self.send_response(202 if service in ("pagerduty", "teams") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


class Signed:
    """A generic-webhook receiver that verifies `X-Petcare-Signature` with the channel secret."""

    def __init__(self, port: int = 0, secret: str = "", delay_s: float = 0.0) -> None:
        self.secret = secret
        self.got: queue.Queue[dict[str, Any]] = queue.Queue()
        self.bad: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), raw, hashlib.sha256).hexdigest()
                )
                given = self.headers.get("X-Petcare-Signature", "")
                if not hmac.compare_digest(expected, given):
                    receiver.bad.append(given)
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if delay_s:
                    threading.Event().wait(delay_s)
                body = json.loads(raw)
                body["_header_key"] = self.headers.get("X-Petcare-Idempotency-Key")
                receiver.got.put(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/alerts?token=t0ken"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def drain(self, timeout: float) -> list[dict[str, Any]]:
        out = []
        while True:
            try:
                out.append(self.got.get(timeout=timeout))
            except queue.Empty:
                return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: queue.Queue[tuple[list[str], Message]]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    got: queue.Queue[tuple[list[str], Message]] = queue.Queue()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.put((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            return "250 OK"

    import socket

    with socket.socket() as probe:  # aiosmtpd needs a port it can name before it binds
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield Mailbox(port, got)
    controller.stop()
