"""Operations routes of the app server: `/healthz`, `/metrics` and the request counter.

Served by `ui/server.py` (which documents who may read what); kept apart from the sign-in routes
so that each stays small. `/healthz` answers `{"status": ...}` to anyone and every component's
detail only with the `health_token` or a signed-in admin's session cookie; `/metrics` needs the
`metrics_token`, or without one a direct loopback peer that sends no forwarding header.
`no_store` marks any response of these routes (and the sign-in routes) as never cached.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from petcare_dba.errors import PetcareError
from petcare_dba.services.monitoring import health
from petcare_dba.services.observability import metrics, scrape
from petcare_dba.services.security import auth
from petcare_dba.ui import state, streamlit_config
from petcare_dba.ui.components.security import login


def no_store(response: Response) -> Response:
    """The response, never cached and sending no referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _health_details_allowed(request: Request) -> bool:
    """Details need the `health_token` (Bearer, constant-time) or a signed-in admin's cookie."""
    rt = state.runtime()
    expected = rt.settings.health_token
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if expected and scheme.lower() == "bearer" and given:
        if hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8")):
            return True
    cookie = request.cookies.get(login.COOKIE_NAME, "")
    if not cookie:
        return False
    try:
        actor = auth.resolve(rt.store, rt.settings, cookie)
    except PetcareError:
        return False
    return actor is not None and actor.role == "admin"


def healthz(request: Request) -> Response:
    """Health for load balancers: 200 healthy, 503 otherwise; `{"status": ...}` only, unless the
    caller shows the health token or an admin's session (then every component's detail)."""
    try:
        report = health.check(state.runtime(), None)
    except PetcareError as exc:
        report = None
        failure = exc.message
    healthy = report is not None and report.healthy
    code = 200 if healthy else 503
    try:
        details = _health_details_allowed(request)
    except PetcareError:
        details = False
    if not details:
        return no_store(JSONResponse({"status": "ok" if healthy else "degraded"}, code))
    if report is None:
        body = {
            "status": "degraded",
            "healthy": False,
            "components": [{"name": "metadata", "ok": False, "detail": failure}],
        }
        return no_store(JSONResponse(body, status_code=503))
    body = {"status": "ok" if healthy else "degraded", **report.as_dict()}
    return no_store(JSONResponse(body, status_code=code))


_FORWARDING = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host")


def metrics_allowed(request: Request) -> bool:
    """`metrics_token` as a Bearer token when set; else a direct loopback peer only."""
    expected = state.runtime().settings.metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return (
            scheme.lower() == "bearer"
            and bool(given)
            and hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))
        )
    return _loopback(request.client.host if request.client else "") and not any(
        h in request.headers for h in _FORWARDING
    )


def _loopback(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:  # a Unix socket or a test client names no address
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def metrics_route(request: Request) -> Response:
    """Prometheus text exposition of this process (see the module docstring for who may)."""
    if not metrics_allowed(request):
        return no_store(PlainTextResponse("forbidden", status_code=403))
    body = scrape.render(state.runtime())
    return no_store(Response(body, media_type=scrape.CONTENT_TYPE))


class CountRequests:
    """ASGI middleware: count HTTP requests by route kind and status class, and websockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.base = streamlit_config.base_path()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        route = metrics.route_label(scope.get("path", ""), self.base)
        if scope["type"] == "websocket":
            metrics.request_served(route, 101)
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                metrics.request_served(route, int(message["status"]))
            await send(message)

        await self.app(scope, receive, counted)
