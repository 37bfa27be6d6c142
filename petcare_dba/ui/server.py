"""ASGI entry point: Streamlit's `st.App` serving `app.py`, plus session-cookie and health routes.

`petcare-dba up` runs `streamlit run server.py`; Streamlit 1.67 finds the `st.App` assigned to
`app` and serves it with uvicorn. Extra routes:

- Every response to a browser without one sets `petcare_preauth`, an HttpOnly pre-auth nonce;
  the login page binds the handoff code to it (U5: a code minted in one browser cannot sign in
  another — login CSRF).
- `GET /auth/frame#session=<code>` / `#logout`: a tiny page, served only to same-origin
  navigations and frameable only by this origin, that POSTs the fragment's code (or the logout)
  from this origin. The code never appears in a URL the server sees.
- `POST /auth/session` (same-origin only: `Sec-Fetch-Site`/`Origin` checked) exchanges a
  single-use, 60-second handoff code for the session cookie: `HttpOnly; Secure;
  SameSite=Strict`, holding the opaque 256-bit session token whose sha256 is all the database
  keeps; the browser's previous session is revoked (rotation). GET sets nothing (405).
- `POST /auth/logout` (same-origin only) revokes the cookie's session and clears the cookie; a
  cross-site navigation to it cannot sign anyone out.
- `GET /auth/whoami` answers 200 with the user of a live cookie session, 401 otherwise (a
  replayed cookie after logout gets 401).
- `GET /metrics`: Prometheus text (services/observability). With `metrics_token` set, only
  `Authorization: Bearer <metrics_token>` (constant time); without one, only a loopback peer that
  sends no forwarding header (a reverse proxy on the same host adds one, so it cannot expose the
  endpoint by accident). Anything else: 403. Each app process exposes its own counters.
- `/mcp`: the MCP server over Streamable HTTP (services/mcp; stateless, JSON responses), for
  `Authorization: Bearer <API token>` only (401 otherwise); each tool call checks the token
  again, counts it against the token's rate limit and is audited as `mcp.call`.
- `GET /healthz` answers `{"status": "ok"|"degraded"}` (200 / 503) to anyone; the components'
  details (connection names, pool statistics, key versions, AI settings) only with
  `Authorization: Bearer <health_token>` (compared in constant time) or a signed-in admin's
  session cookie.

Uncaught exceptions in a page are logged with a correlation id and shown to the user as a generic
message carrying that id, never a traceback (reliability S4).

Shutdown (SIGTERM or SIGINT, e.g. from `petcare-dba up`): the lifespan wraps uvicorn's signal
handlers, so a signal first starts cancelling the running statements (`engine.drain`: each ends
audited 'cancelled') while uvicorn stops accepting and closes the websockets; the lifespan's end
waits for that drain and closes the runtime before Streamlit's runtime stops.
Every route is served under `server.baseUrlPath` (a reverse proxy's prefix), like Streamlit's own.
At import (server start) the logging is configured from the settings and the effective Streamlit
options are checked: a hardened option weaker than required stops the server (ui/streamlit_config).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Loaded with the server, before the first session: sessions whose first chart imports pandas at
# the same moment in different script threads let plotly see a partially initialised module
# ("partially initialized module 'pandas' has no attribute 'Series'"; found by `python -m bench
# scale` on a fresh instance).
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from petcare_dba import settings as settings_mod
from petcare_dba.errors import ConfigError
from petcare_dba.services import alerts, mcp
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.observability import logs, metrics
from petcare_dba.services.security import auth, handoff
from petcare_dba.ui import offline_assets, state, streamlit_config
from petcare_dba.ui.components.security import login
from petcare_dba.ui.ops_routes import CountRequests, healthz, metrics_route, no_store

_LOG = logging.getLogger("petcare_dba.ui")
_refused_options = streamlit_config.violations(only_operator=False)
if _refused_options:
    raise SystemExit("\n".join(f"petcare-dba: refusing to serve: {v}" for v in _refused_options))
logs.configure(settings_mod.load())
BASE = streamlit_config.base_path()
# Tells the login page (same process) that the cookie routes exist.
os.environ[login.COOKIE_ROUTES_ENV] = "1"


def same_origin(request: Request) -> bool:
    """True when the browser says the request comes from this app's own pages (U5).

    `Sec-Fetch-Site` (sent by every current browser) must say `same-origin` when present, and
    `Origin` (sent with every POST) must name this host when present; at least one must be
    there. A cross-site form, a navigation from another site, a sandboxed frame (`Origin:
    null`) or a page on another port of the same host all fail.
    """
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site is None and origin is None:
        return False
    if site is not None and site != "same-origin":
        return False
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.netloc != request.headers.get("host"):
            return False
    return True


def _refused() -> Response:
    return no_store(PlainTextResponse("cross-site request refused", status_code=403))


async def _form_value(request: Request, name: str) -> str:
    body = await request.body()
    if len(body) > 4096:
        return ""
    values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    return (values.get(name) or [""])[0]


async def session_cookie(request: Request) -> Response:
    """Exchange a handoff code (POSTed by our own frame) for the HttpOnly session cookie.

    Same-origin only; the code opens only with the pre-auth nonce of the browser it was minted
    for; the session the browser held before (if any) is revoked: a sign-in rotates it.
    """
    if not same_origin(request):
        return _refused()
    rt = state.runtime()
    code = await _form_value(request, "code")
    binding = request.cookies.get(login.PREAUTH_COOKIE, "")
    token = handoff.take_handoff(rt.store, rt.settings, rt.keyring, code, binding)
    if token is None:
        return no_store(PlainTextResponse("invalid or expired code", status_code=400))
    previous = request.cookies.get(login.COOKIE_NAME, "")
    if previous and previous != token:
        auth.revoke_token(rt.store, previous)
    response = PlainTextResponse("ok")
    response.set_cookie(
        login.COOKIE_NAME,
        token,
        max_age=rt.settings.session_absolute_hours * 3600,
        path="/",
        secure=True,  # also behind a TLS-terminating proxy: the flag does not depend on scheme
        httponly=True,
        samesite="strict",
    )
    return no_store(response)


async def logout(request: Request) -> Response:
    """Revoke the cookie's session and clear the cookie (same-origin POST only)."""
    if not same_origin(request):
        return _refused()
    token = request.cookies.get(login.COOKIE_NAME, "")
    if token:
        auth.revoke_token(state.runtime().store, token)
    response = PlainTextResponse("signed out")
    response.delete_cookie(
        login.COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict"
    )
    return no_store(response)


# The page our own hidden frame loads: it POSTs the code from its fragment (never sent to the
# server or written to logs) or the logout, from this origin, to a path relative to its own
# (so a base URL path is kept). It is served only to a same-origin
# navigation and may only be framed by this origin.
_FRAME_PAGE = """<!doctype html><meta charset="utf-8"><script>
(function () {
  var h = location.hash.slice(1), body = null, path = null;
  if (h.indexOf("session=") === 0) { path = "session"; body = "code=" + h.slice(8); }
  else if (h === "logout") { path = "logout"; body = ""; }
  history.replaceState(null, "", location.pathname);
  if (path) fetch(path, {method: "POST", credentials: "same-origin", body: body,
    headers: {"Content-Type": "application/x-www-form-urlencoded"}});
})();
</script>"""


def auth_frame(request: Request) -> Response:
    """The same-origin page that performs the cookie handoff or logout as a POST."""
    if request.headers.get("sec-fetch-site") != "same-origin":
        return _refused()
    response = HTMLResponse(_FRAME_PAGE)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return no_store(response)


class PreauthCookie:
    """ASGI middleware: give every browser a pre-auth nonce cookie before it signs in.

    The cookie rides on the first page load, so the websocket handshake that follows carries
    it and the sign-in (st.context.cookies) can bind the handoff code to it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or login.PREAUTH_COOKIE in Request(scope).cookies:
            await self.app(scope, receive, send)
            return
        cookie = (
            f"{login.PREAUTH_COOKIE}={secrets.token_urlsafe(32)}; Path=/; "
            "Max-Age=31536000; Secure; HttpOnly; SameSite=Strict"
        )

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, with_cookie)


def whoami(request: Request) -> Response:
    """The user of a live cookie session, or 401."""
    rt = state.runtime()
    actor = auth.resolve(rt.store, rt.settings, request.cookies.get(login.COOKIE_NAME, ""))
    if actor is None:
        return no_store(JSONResponse({"error": "not signed in"}, status_code=401))
    return no_store(JSONResponse({"username": actor.username, "role": actor.role}))


def on_script_error(exc: Exception) -> bool:
    """Log the traceback with a correlation id; show the user only the id (S4)."""
    ref = logs.new_correlation_id()
    logs.unexpected(_LOG, ref, exc)
    try:
        login.show_unexpected(ref)
    except Exception:  # rendering failed too: Streamlit's own generic message remains
        return False
    return True


class _Drainer:
    """Runs `state.drain` once, in a thread, from the first stop signal or the lifespan's end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=state.drain, name="petcare-drain", daemon=True
                )
                self._thread.start()
            return self._thread


_DRAINER = _Drainer()


def _chained(previous: Any) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        _DRAINER.start()  # cancel statements now, while uvicorn stops accepting
        if callable(previous):
            previous(signum, frame)

    return handler


def _job_families() -> list[Any]:
    """Each background job's lag and last outcome, read from the store at scrape time."""
    return list(jobs.metric_families(state.runtime()))


def _outbox_families() -> list[Any]:
    """The alert outbox by channel kind and state, shared by every instance and worker."""
    counts = alerts.delivery_counts(state.runtime())
    return [
        metrics.gauge_family(
            "petcare_alert_outbox",
            "Alert deliveries by channel kind and outcome (attempts; rows for dead, suppressed, "
            "pending), from the shared outbox.",
            ["kind", "outcome"],
            (((c.channel_kind, c.outcome), c.count) for c in counts),
        )
    ]


def _mcp_endpoint() -> tuple[Any, Any]:
    """The MCP Streamable HTTP endpoint and its lifespan, or (None, None) without [mcp]."""
    try:
        return mcp.server.http_app(state.runtime)
    except ConfigError:
        return None, None


_MCP_APP, _MCP_LIFESPAN = _mcp_endpoint()


@contextlib.asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Chain the drain in front of uvicorn's signal handlers; drain and close at the end."""
    metrics.register_collector(_job_families)
    metrics.register_collector(_outbox_families)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _chained(signal.getsignal(sig)))
    async with contextlib.AsyncExitStack() as stack:
        if _MCP_LIFESPAN is not None:  # the MCP sessions end before the drain
            await stack.enter_async_context(_MCP_LIFESPAN())
        yield
    await asyncio.to_thread(_DRAINER.start().join)
    await asyncio.to_thread(state.close)


app = st.App(
    str(Path(__file__).with_name("app.py")),
    lifespan=lifespan,
    routes=[
        Route(BASE + "/auth/frame", auth_frame, methods=["GET"]),
        Route(BASE + "/auth/session", session_cookie, methods=["POST"]),
        Route(BASE + "/auth/logout", logout, methods=["POST"]),
        Route(BASE + "/auth/whoami", whoami, methods=["GET"]),
        Route(BASE + "/healthz", healthz, methods=["GET"]),
        Route(BASE + "/metrics", metrics_route, methods=["GET"]),
        *([Route(BASE + "/mcp", _MCP_APP)] if _MCP_APP is not None else []),
    ],
    middleware=[Middleware(CountRequests), Middleware(PreauthCookie), offline_assets.middleware()],
    on_script_error=on_script_error,
)
