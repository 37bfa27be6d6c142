"""Fixtures for the rendering and session security tests (issue 14, g-render).

`listener`: a local HTTP server on a free port that records every request it receives (the
"attacker's" server a hostile Markdown image or link would reach). `attacker_site`: a second
local HTTP server, on another origin than the app, serving pages the test writes into it.
`live_session(page, base)`: the cookies the app set in a Chromium context. `http()`: a plain
request with the headers an attacker chooses.
"""

from __future__ import annotations

import http.server as http_server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

HEALTH_TOKEN = "health-token-" + "x" * 40


@dataclass
class Listener:
    """A local HTTP server; `hits` are the paths (with query strings) it was asked for."""

    port: int
    hits: list[str] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve(listener_pages: dict[str, str], hits: list[str]) -> http_server.ThreadingHTTPServer:
    class Handler(http_server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(self.path)
            body = listener_pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, *args: object) -> None:
            del args

    return http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local server that must see no request from a page showing hostile text."""
    hits: list[str] = []
    pages: dict[str, str] = {}
    server = _serve(pages, hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Listener(server.server_address[1], hits, pages)
    server.shutdown()
    server.server_close()


attacker_site = listener  # the same server, used to serve the attacker's pages


def _headers(message: object) -> dict[str, str]:
    got = {k.lower(): v for k, v in message.items()}  # type: ignore[attr-defined]
    got["set-cookie"] = " | ".join(message.get_all("Set-Cookie") or [])  # type: ignore[attr-defined]
    return got


def http(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: str = ""
) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of one request with exactly the given headers."""
    data = body.encode() if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:  # noqa: S310
            return resp.status, _headers(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, _headers(exc.headers), exc.read().decode()


def cookies_of(context: object, url: str) -> dict[str, str]:
    """The cookies a Chromium context holds for the app."""
    return {c["name"]: c["value"] for c in context.cookies(url)}  # type: ignore[attr-defined]
