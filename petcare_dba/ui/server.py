"""ASGI entry point: Streamlit's `st.App` serving `app.py`, plus session-cookie and health routes.

`petcare-dba up` runs `streamlit run server.py`; Streamlit 1.67 finds the `st.App` assigned to
`app` and serves it with uvicorn. Extra routes:

- `GET /auth/session?code=…` exchanges a single-use, 60-second handoff code (created by the login
  page after a successful sign-in) for the session cookie: `HttpOnly; Secure; SameSite=Strict`,
  holding the opaque 256-bit session token whose sha256 is all the database keeps. The cookie is
  set by this server response, never by JavaScript, so scripts in the page cannot read it.
- `GET /auth/logout` revokes the cookie's session server-side and clears the cookie.
- `GET /auth/whoami` answers 200 with the user of a live cookie session, 401 otherwise (a
  replayed cookie after logout gets 401).
- `GET /healthz` serves `services.health.check` as JSON: 200 when healthy, 503 otherwise.

Uncaught exceptions in a page are logged with a correlation id and shown to the user as a generic
message carrying that id, never a traceback (reliability S4).
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from petcare_dba.errors import PetcareError
from petcare_dba.services import auth, health
from petcare_dba.ui import state
from petcare_dba.ui.components import login

_LOG = logging.getLogger("petcare_dba.ui")
# Tells the login page (same process) that the cookie routes exist.
os.environ[login.COOKIE_ROUTES_ENV] = "1"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def session_cookie(request: Request) -> Response:
    """Exchange a handoff code for the HttpOnly session cookie."""
    rt = state.runtime()
    code = request.query_params.get("code", "")
    token = auth.take_handoff(rt.store, rt.settings, rt.keyring, code)
    if token is None:
        return _no_store(PlainTextResponse("invalid or expired code", status_code=400))
    response = PlainTextResponse("ok")
    response.set_cookie(
        login.COOKIE_NAME,
        token,
        max_age=int(rt.settings.session_absolute_hours) * 3600,
        path="/",
        secure=True,  # also behind a TLS-terminating proxy: the flag does not depend on scheme
        httponly=True,
        samesite="strict",
    )
    return _no_store(response)


def logout(request: Request) -> Response:
    """Revoke the cookie's session and clear the cookie."""
    token = request.cookies.get(login.COOKIE_NAME, "")
    if token:
        auth.revoke_token(state.runtime().store, token)
    response = PlainTextResponse("signed out")
    response.delete_cookie(
        login.COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict"
    )
    return _no_store(response)


def whoami(request: Request) -> Response:
    """The user of a live cookie session, or 401."""
    rt = state.runtime()
    actor = auth.resolve(rt.store, rt.settings, request.cookies.get(login.COOKIE_NAME, ""))
    if actor is None:
        return _no_store(JSONResponse({"error": "not signed in"}, status_code=401))
    return _no_store(JSONResponse({"username": actor.username, "role": actor.role}))


def healthz(request: Request) -> Response:
    """Component health for load balancers: 200 healthy, 503 otherwise."""
    del request
    try:
        report = health.check(state.runtime(), None)
    except PetcareError as exc:
        body = {
            "healthy": False,
            "components": [{"name": "metadata", "ok": False, "detail": exc.message}],
        }
        return _no_store(JSONResponse(body, status_code=503))
    return _no_store(JSONResponse(report.as_dict(), status_code=200 if report.healthy else 503))


def on_script_error(exc: Exception) -> bool:
    """Log the traceback with a correlation id; show the user only the id (S4)."""
    ref = uuid.uuid4().hex[:12]
    _LOG.error("unexpected error in a page (ref %s)", ref, exc_info=exc)
    try:
        login.show_unexpected(ref)
    except Exception:  # rendering failed too: Streamlit's own generic message remains
        return False
    return True


app = st.App(
    str(Path(__file__).with_name("app.py")),
    routes=[
        Route("/auth/session", session_cookie, methods=["GET"]),
        Route("/auth/logout", logout, methods=["GET"]),
        Route("/auth/whoami", whoami, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ],
    on_script_error=on_script_error,
)
