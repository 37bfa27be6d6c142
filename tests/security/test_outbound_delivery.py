"""Hostile destinations for alert deliveries (reliability U6): denied ranges refused before any
connection, no redirects, one total deadline against a slow-drip server, error texts that do not
say what listens, validated e-mail addresses, and one bad channel never stopping the others.

Local receivers are allowed through `outbound_allow=127.0.0.1` (the test settings); the tests of
the default policy clear it. Denied private and link-local addresses are never contacted: the
one function that connects is wrapped and must not be called.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import psycopg
import pytest

from petcare_dba.errors import PermissionDenied, Refused, ValidationError
from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbound
from petcare_dba.services.runtime import Runtime
from tests.fix_monitoring import SmtpReceiver, WebhookReceiver, smtp, webhook

__all__ = ["smtp", "webhook"]


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every (address, port) a delivery connects to."""
    seen: list[tuple[str, int]] = []
    real = outbound._open_socket

    def spy(dest: outbound.Destination, timeout: float) -> socket.socket:
        seen.append((dest.ip, dest.port))
        return real(dest, timeout)

    monkeypatch.setattr(outbound, "_open_socket", spy)
    return seen


def _strict(rt: Runtime) -> None:
    rt.settings = rt.settings.with_overrides(outbound_allow="")
    assert rt.settings.outbound_allow == ""


class _Server:
    """A TCP server on 127.0.0.1 whose connections are handled by `serve(conn)` in a thread."""

    def __init__(self, serve) -> None:  # type: ignore[no-untyped-def]
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()

        def loop() -> None:
            self.sock.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    continue
                self.accepted += 1
                threading.Thread(target=serve, args=(conn, self._stop), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65536)
    for byte in b"HTTP/1.1 204 No Content\r\n\r\n":
        if stop.wait(1.5):
            break
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            break
    conn.close()


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)
    conn.close()


@pytest.fixture
def drip() -> Iterator[_Server]:
    server = _Server(_drip)
    yield server
    server.close()


def _redirector(location: str) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "https://192.168.1.1/hook",
        "http://172.16.5.4:5432/",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0:5432/",
        "http://100.64.0.1/",
    ],
)
def test_denied_destinations_are_refused_before_connecting(
    rt: Runtime, admin: Actor, connects: list[tuple[str, int]], url: str
) -> None:
    _strict(rt)
    with pytest.raises((Refused, ValidationError)) as info:
        channels.add_webhook(rt, admin, "hook", url)
    assert "outbound_allow" in info.value.message or "webhook URL" in info.value.message
    with pytest.raises((Refused, ValidationError)):
        outbound.post(rt.settings, url, b"{}", 2.0)
    assert connects == []
    assert channels.list_channels(rt, admin) == []


def test_private_addresses_stay_denied_when_only_loopback_is_allowed(
    rt: Runtime, admin: Actor, connects: list[tuple[str, int]]
) -> None:
    assert rt.settings.outbound_allow == "127.0.0.1"
    for url in ("http://169.254.169.254/", "http://10.0.0.1/x", "http://[::1]/x"):
        with pytest.raises(Refused):
            channels.add_webhook(rt, admin, "hook", url)
    assert connects == []


def test_the_metadata_store_port_is_refused_even_on_an_allowed_address(
    rt: Runtime, admin: Actor, connects: list[tuple[str, int]], meta_url: str
) -> None:
    port = urlsplit(meta_url).port or 5432
    host = urlsplit(meta_url).hostname
    with pytest.raises(Refused, match="metadata store"):
        channels.add_webhook(rt, admin, "hook", f"http://{host}:{port}/x")
    assert connects == []
    # Only the exact address:port in the allow-list overrides it.
    rt.settings = rt.settings.with_overrides(outbound_allow=f"127.0.0.1,{host}:{port}")
    channels.add_webhook(rt, admin, "hook", f"http://{host}:{port}/x")


def test_the_policy_is_checked_again_at_delivery_time(
    rt: Runtime, admin: Actor, webhook: WebhookReceiver, connects: list[tuple[str, int]]
) -> None:
    channels.add_webhook(rt, admin, "hook", webhook.url)
    _strict(rt)  # the admin withdrew the allowance (or the name now resolves elsewhere)
    result = channels.send_test(rt, admin, "hook")
    assert not result.ok and "outbound_allow" in (result.error or "")
    assert connects == [] and webhook.wait_for(1) is None


def test_a_slow_drip_server_cannot_hold_a_delivery_past_the_deadline(
    rt: Runtime, admin: Actor, drip: _Server
) -> None:
    rt.settings = rt.settings.with_overrides(alert_delivery_timeout_s=3)
    channels.add_webhook(rt, admin, "slow", f"http://127.0.0.1:{drip.port}/hook")
    started = time.monotonic()
    result = channels.send_test(rt, admin, "slow")
    elapsed = time.monotonic() - started
    assert drip.accepted == 1
    assert not result.ok and result.error == outbound.UNREACHABLE
    assert elapsed < 4.5, f"the delivery took {elapsed:.1f} s with a 3 s deadline"


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{other}/stolen",  # another port (host:port) on an allowed address
        "ftp://127.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/",
    ],
)
def test_redirects_are_never_followed(
    rt: Runtime, admin: Actor, webhook: WebhookReceiver, location: str
) -> None:
    other = urlsplit(webhook.url).port
    server = _redirector(location.format(other=other))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        channels.add_webhook(rt, admin, "redir", url)
        result = channels.send_test(rt, admin, "redir")
    finally:
        server.shutdown()
        server.server_close()
    assert not result.ok and "redirects are not followed" in (result.error or "")
    assert webhook.wait_for(1) is None


def test_error_texts_do_not_say_what_listens(rt: Runtime, admin: Actor) -> None:
    rt.settings = rt.settings.with_overrides(alert_delivery_timeout_s=1.5)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens here: "connection refused"
    silent = _Server(_silent)  # accepts and never answers: a timeout
    try:
        channels.add_webhook(rt, admin, "closed", f"http://127.0.0.1:{closed_port}/x")
        channels.add_webhook(rt, admin, "silent", f"http://127.0.0.1:{silent.port}/x")
        errors = {
            channels.send_test(rt, admin, "closed").error,
            channels.send_test(rt, admin, "silent").error,
        }
    finally:
        silent.close()
    assert errors == {outbound.UNREACHABLE}
    assert not any(w in outbound.UNREACHABLE.lower() for w in ("refused", "timed out", "timeout"))


@pytest.mark.parametrize(
    "recipient",
    [
        "dba@example.org\r\nBcc: everyone@evil.example",
        "dba@example.org\nSubject: hi",
        "dba@example.org, boss@evil.example",
        "Boss <boss@evil.example>",
        "dba@example.org\x00",
        "no-at-sign",
        "a" * 65 + "@example.org",
    ],
)
def test_e_mail_recipients_must_be_plain_addresses(
    rt: Runtime, admin: Actor, recipient: str
) -> None:
    with pytest.raises(ValidationError, match="plain e-mail address"):
        channels.add_email(
            rt,
            admin,
            "mail",
            host="127.0.0.1",
            port=25,
            sender="petcare@example.org",
            recipients=[recipient],
        )
    assert channels.list_channels(rt, admin) == []


def test_one_failing_channel_never_stops_the_others(
    rt: Runtime,
    admin: Actor,
    webhook: WebhookReceiver,
    smtp: SmtpReceiver,
    meta_url: str,
    drip: _Server,
) -> None:
    rt.settings = rt.settings.with_overrides(alert_delivery_timeout_s=2)
    for name in ("a-broken-mail", "z-good-mail"):
        channels.add_email(
            rt,
            admin,
            name,
            host="127.0.0.1",
            port=smtp.port,
            sender="petcare@example.org",
            recipients=["dba@example.org"],
        )
    channels.add_webhook(rt, admin, "b-slow", f"http://127.0.0.1:{drip.port}/x")
    channels.add_webhook(rt, admin, "c-denied", "http://127.0.0.1:9/x")
    channels.add_webhook(rt, admin, "y-good-hook", webhook.url)
    # A channel stored before addresses were validated: its CR/LF header crashed delivery.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.alert_channels SET config = jsonb_set(config, '{recipients}', "
            "%s::jsonb) WHERE name = 'a-broken-mail'",
            ('["dba@example.org\\r\\nBcc: x@evil.example"]',),
        )
    results = {d.channel: d for d in channels.deliver(rt, [_note()])}
    assert results["y-good-hook"].ok and results["z-good-mail"].ok
    assert not results["a-broken-mail"].ok and not results["b-slow"].ok
    assert not results["c-denied"].ok
    assert "Traceback" not in (results["a-broken-mail"].error or "")
    assert webhook.wait_for(5, event="test") is not None
    assert "dba@example.org" in str(smtp.messages.get(timeout=5)["to"])


def test_only_admins_add_channels_so_no_one_else_probes_the_network(
    rt: Runtime, admin: Actor, make_user, connects: list[tuple[str, int]]
) -> None:  # type: ignore[no-untyped-def]
    dba = make_user("dora", "dba")
    with pytest.raises(PermissionDenied):
        channels.add_webhook(rt, dba, "hook", "http://10.0.0.1/")
    assert connects == []


def _note() -> alerts.Notification:
    return alerts.Notification(
        "test", None, "test", "warning", None, "test", None, None, "hello", "2026-12-02T00:00:00"
    )
