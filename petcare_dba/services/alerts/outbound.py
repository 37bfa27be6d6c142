"""Outbound deliveries (reliability U6): the destination policy and a deadline-bound HTTP POST.

Alert webhooks and SMTP servers are destinations an admin types in, so a careless or hostile URL
could make the server probe its own network (loopback, link-local metadata services, private
ranges, the metadata store's port). `resolve()` resolves the host ONCE, refuses any address in a
denied range unless the `outbound_allow` setting names it, and returns the checked address, which
is the one the sender connects to (no second lookup, so DNS rebinding cannot swap it). `post()`
speaks just enough HTTP/1.1 to send one request and read the status line, under one total
deadline enforced by a watchdog that shuts the socket down (a server dripping one byte every
1.5 s cannot stretch a 5 s delivery); it follows no redirect. Errors shown to users never say
whether something listened ("refused" and "timed out" read the same); the detail goes to the
server log only.

Apprise (the formatter of Slack, Teams, Discord, PagerDuty and e-mail) connects by itself, so
`guarded()` makes the same policy hold inside it: while a thread is in the block, every name that
thread (or work it hands on with its context) resolves, the first host and any redirect target
alike, goes through `resolve()` and answers with the one checked address, after the
`alert_connect_to` routing (a relay, or a local receiver in tests). Other threads resolve as
usual.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from petcare_dba.errors import Refused, Unavailable, ValidationError
from petcare_dba.messages import say

log = logging.getLogger(__name__)
# The process's resolver before `guarded()` wraps it; every policy lookup uses this one.
_real_getaddrinfo = socket.getaddrinfo
# A context variable, not a thread-local: Apprise runs a send with a deadline on a worker thread
# in a copy of the caller's context, and the guard must follow it there (and nowhere else).
_GUARD: contextvars.ContextVar[tuple[Any, list[str]] | None] = contextvars.ContextVar(
    "petcare_outbound_guard", default=None
)
_INSTALL = threading.Lock()

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges no delivery may reach unless allowed: loopback, link-local (cloud metadata at
# 169.254.169.254), private and unique-local, CGNAT, "this network", multicast and reserved.
DENIED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
UNREACHABLE = say("msg.outbound.unreachable")


@dataclass(frozen=True)
class Destination:
    """A checked destination: the name the user gave and the one address to connect to."""

    host: str
    ip: str
    port: int


def _allow_entries(settings: Any) -> list[str]:
    return [e.strip() for e in settings.outbound_allow.split(",") if e.strip()]


def _store_endpoint(settings: Any) -> tuple[str, int]:
    if settings.database_url:
        parts = urlsplit(settings.database_url)
        return parts.hostname or "", parts.port or 5432
    return "127.0.0.1", settings.embedded_port


def _allowed(ip: IpAddress, port: int, entries: list[str]) -> bool:
    for entry in entries:
        addr, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and int(entry_port) != port:
            continue
        try:
            if ip in ipaddress.ip_network(addr.strip("[]"), strict=False):
                return True
        except ValueError:
            continue
    return False


def _store_ips(settings: Any) -> set[str]:
    host, _ = _store_endpoint(settings)
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    try:
        return {str(info[4][0]) for info in _real_getaddrinfo(host, None)}
    except OSError:
        return set()


def _route(settings: Any, host: str, port: int) -> tuple[str, int]:
    """Where a connection to host:port really goes (`alert_connect_to`), else itself."""
    for entry in str(getattr(settings, "alert_connect_to", "") or "").split(","):
        source, _, target = entry.strip().partition("=")
        s_host, _, s_port = source.rpartition(":")
        t_host, _, t_port = target.rpartition(":")
        if not (s_port.isdigit() and t_port.isdigit() and t_host):
            continue
        if s_host.strip("[]").lower() == host.lower() and int(s_port) == port:
            return t_host.strip("[]"), int(t_port)
    return host, port


def resolve(settings: Any, host: str, port: int) -> Destination:
    """Resolve `host` once and check every address; raise Refused before any connection.

    The Destination keeps the name asked for (TLS and the Host header use it) and the address
    and port actually connected to (after `alert_connect_to`), which are what the policy checks.
    """
    if not host or any(ord(c) < 33 for c in host):
        raise ValidationError(say("msg.outbound.no_host"))
    asked = host
    host, port = _route(settings, host, port)
    try:
        infos = _real_getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        log.warning("outbound: cannot resolve %r: %s", host, exc)
        raise Unavailable(UNREACHABLE) from exc
    entries = _allow_entries(settings)
    ips = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    _, store_port = _store_endpoint(settings)
    store_ips = _store_ips(settings) if port == store_port else set()
    for ip in ips:
        explicit = _allowed(ip, port, [e for e in entries if e.count(":") == 1])
        if str(ip) in store_ips and not explicit:
            raise Refused(
                say("msg.outbound.metadata_store", host=host, port=str(port)),
                hint=say("msg.outbound.metadata_store.hint"),
            )
        if any(ip in net for net in DENIED) and not _allowed(ip, port, entries):
            raise Refused(
                say("msg.outbound.private", host=host), hint=say("msg.outbound.private.hint")
            )
    # Every address passed; connect to the first and only that one (no second lookup).
    return Destination(asked, str(ips[0]), port)


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    guard = _GUARD.get()
    if guard is None:  # outside `guarded()`: the ordinary resolver
        return _real_getaddrinfo(host, port, *args, **kwargs)
    settings, refusals = guard
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    try:
        number = int(port or 0)
    except ValueError:
        number = socket.getservbyname(str(port), "tcp")
    try:
        dest = resolve(settings, name, number)
    except (Refused, ValidationError, Unavailable) as exc:
        refusals.append(exc.message)
        # An OSError is what HTTP and SMTP clients expect from a resolver: they fail the send.
        raise socket.gaierror(socket.EAI_FAIL, "refused by the outbound policy") from exc
    family = socket.AF_INET6 if ":" in dest.ip else socket.AF_INET
    addr: tuple[Any, ...] = (dest.ip, dest.port, 0, 0) if ":" in dest.ip else (dest.ip, dest.port)
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", addr)]


@contextmanager
def guarded(settings: Any) -> Iterator[list[str]]:
    """Hold this thread's outbound connections to the policy; yields the refusals seen."""
    with _INSTALL:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo
    refusals: list[str] = []
    token = _GUARD.set((settings, refusals))
    try:
        yield refusals
    finally:
        _GUARD.reset(token)


def check_url(settings: Any, url: str) -> Destination:
    """Check a webhook URL (scheme, host, policy); the Destination to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(say("msg.outbound.scheme"))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationError(say("msg.outbound.port")) from exc
    return resolve(settings, parts.hostname, port)


def _open_socket(dest: Destination, timeout: float) -> socket.socket:
    """The only place a delivery connects (tests wrap it to prove refusals never get here)."""
    return socket.create_connection((dest.ip, dest.port), timeout=timeout)


@contextmanager
def _watchdog(sock_holder: list[socket.socket], seconds: float) -> Iterator[None]:
    """Shut the socket down at the deadline, whatever call is blocked on it."""

    def fire() -> None:
        for sock in sock_holder:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(max(seconds, 0.0), fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def post(
    settings: Any,
    url: str,
    body: bytes,
    deadline_s: float,
    headers: dict[str, str] | None = None,
) -> int:
    """POST `body` as JSON within `deadline_s` seconds in total; the HTTP status (2xx only).

    `headers` (a signature, an idempotency key) are ours, never a user's: still, a name or value
    with a line break or a non-ASCII character is refused rather than sent.
    """
    limit = int(getattr(settings, "alert_max_payload_bytes", 65536))
    if len(body) > limit:
        raise ValidationError(say("msg.outbound.too_big", size=len(body), limit=limit))
    extra = ""
    for name, value in (headers or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", name) or not re.fullmatch(
            r"[\x20-\x7e]{0,1024}", value
        ):
            raise ValidationError(say("msg.outbound.header"))
        extra += f"{name}: {value}\r\n"
    dest = check_url(settings, url)
    parts = urlsplit(url)
    end = time.monotonic() + deadline_s
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = f"[{dest.host}]" if ":" in dest.host else dest.host
    if parts.port:
        host_header += f":{parts.port}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/json\r\n"
        f"User-Agent: petcare-dba-alerts\r\nContent-Length: {len(body)}\r\n{extra}"
        "Connection: close\r\n\r\n"
    )
    if any(c in path for c in "\r\n "):
        raise ValidationError(say("msg.outbound.spaces"))
    holder: list[socket.socket] = []
    try:
        with _watchdog(holder, deadline_s):
            sock = _open_socket(dest, max(end - time.monotonic(), 0.05))
            holder.append(sock)
            try:
                if parts.scheme == "https":
                    sock = ssl.create_default_context().wrap_socket(sock, server_hostname=dest.host)
                    holder.append(sock)
                sock.settimeout(max(end - time.monotonic(), 0.05))
                sock.sendall(head.encode("ascii") + body)
                status_line = _read_status_line(sock, end)
            finally:
                sock.close()
    except (OSError, ValueError) as exc:
        log.warning("outbound: delivery to %s:%s failed: %r", dest.host, dest.port, exc)
        raise Unavailable(UNREACHABLE) from exc
    fields = status_line.split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        log.warning("outbound: %s answered %r", dest.host, status_line[:100])
        raise Unavailable(UNREACHABLE)
    status = int(fields[1])
    if 300 <= status < 400:
        raise Unavailable(say("msg.outbound.redirect", status=str(status)))
    if status >= 300 or status < 200:
        raise Unavailable(say("msg.outbound.status", status=str(status)))
    return status


def _read_status_line(sock: socket.socket, end: float) -> bytes:
    buf = b""
    while b"\r\n" not in buf:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("delivery deadline reached")
        sock.settimeout(remaining)
        chunk = sock.recv(1024)
        if not chunk:
            raise ConnectionError("closed before the status line")
        buf += chunk
        if len(buf) > 8192:
            raise ValueError("status line too long")
    if time.monotonic() > end:
        raise TimeoutError("delivery deadline reached")
    return buf.split(b"\r\n", 1)[0]
