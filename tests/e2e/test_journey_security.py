"""Security journeys in headless Chromium: the HttpOnly session cookie across reloads and logout,
health endpoint, login lockout, the audit page with filters and exports, two users in two
browser contexts, and a forced page error shown without a traceback."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users
from tests.fix_browser import screenshot
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD, PgServer

pytestmark = pytest.mark.browser
TIMEOUT = 30000


def _get(url: str, cookie: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:  # noqa: S310
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base)
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _signed_in(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").wait_for(timeout=2 * TIMEOUT)


def _open_audit(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for(timeout=TIMEOUT)


def test_session_cookie_is_httponly_survives_reload_and_dies_on_logout(
    live_app: str, browser, admin: Actor
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    _sign_in(page, live_app, "admin", ADMIN_PASSWORD)
    _signed_in(page)
    page.wait_for_timeout(500)
    cookies = [c for c in context.cookies() if c["name"] == "petcare_session"]
    assert len(cookies) == 1, context.cookies()
    cookie = cookies[0]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert len(cookie["value"]) >= 43  # 256 bits, url-safe base64
    assert page.evaluate("document.cookie").find("petcare_session") == -1  # invisible to JS
    header = f"petcare_session={cookie['value']}"
    assert _get(live_app + "/auth/whoami", header)[0] == 200
    page.reload()
    _signed_in(page)  # the reload kept the session through the cookie
    screenshot(page, "security-after-reload")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT)
    status, _ = _get(live_app + "/auth/whoami", header)  # the replayed cookie
    assert status == 401
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT)
    context.close()


def test_health_endpoint_serves_json(live_app: str, admin: Actor) -> None:  # type: ignore[no-untyped-def]
    # Issue 13: anonymous callers get the status only (details: tests/security/test_session_*).
    status, body = _get(live_app + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    # Issue 14: a GET with a code sets no cookie any more (POST, same-origin only); the path
    # falls through to the app's page.
    assert _get(live_app + "/auth/session?code=forged")[1] not in ("ok", "invalid or expired code")


def test_login_lockout_journey(
    live_app: str, browser, rt: Runtime, admin: Actor, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("lucy", "viewer")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(live_app)
    for _ in range(rt.settings.lockout_threshold):
        page.get_by_label("Username").fill("lucy")
        page.get_by_role("textbox", name="Password").fill("wrong-password-99")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Invalid username or password").wait_for(timeout=TIMEOUT)
    page.get_by_label("Username").fill("lucy")
    page.get_by_role("textbox", name="Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Invalid username or password").wait_for(timeout=TIMEOUT)
    screenshot(page, "security-locked-out")
    users.unlock(rt, admin, "lucy")
    page.get_by_role("textbox", name="Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _signed_in(page)
    context.close()


def test_audit_page_filters_details_and_exports(
    live_app: str, browser, rt: Runtime, admin: Actor, make_user, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vito", "viewer")
    audit.record(rt.store, viewer, "test.journey", "ok", detail={"n": 1})
    context = browser.new_context(
        locale="en-US", accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    _sign_in(page, live_app, "admin", ADMIN_PASSWORD)
    _signed_in(page)
    _open_audit(page)
    page.get_by_text("You see every user's events.").wait_for(timeout=TIMEOUT)
    picker = page.get_by_role("combobox", name="User")
    picker.click()
    picker.fill("vito")
    page.get_by_role("option", name="vito").click()
    page.get_by_text("1 events").wait_for(timeout=TIMEOUT)
    screenshot(page, "security-audit-filtered")
    for label, suffix in (("Export CSV", ".csv"), ("Export JSONL", ".jsonl")):
        with page.expect_download() as info:
            page.get_by_role("button", name=label).click()
        download = info.value
        assert download.suggested_filename.endswith(suffix)
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        text = saved.read_text()
        assert "test.journey" in text and "vito" in text
    page.get_by_role("button", name="Verify hash chain").click()
    page.get_by_text("Chain intact").wait_for(timeout=TIMEOUT)
    context.close()


def test_two_users_in_two_browsers_never_see_each_other(
    live_app: str, browser, rt: Runtime, admin: Actor, make_user, pg: PgServer
) -> None:  # type: ignore[no-untyped-def]
    make_user("ann", "analyst")
    make_user("ben", "analyst")
    for name in ("ann", "ben"):
        actor = users.actor_for(rt, name)
        audit.record(rt.store, actor, f"test.private-{name}", "ok")
    pages = {}
    for name in ("ann", "ben"):
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        _sign_in(page, live_app, name, USER_PASSWORD)
        pages[name] = (context, page)
    for _, page in pages.values():
        _signed_in(page)
        _open_audit(page)
        page.get_by_text("You see your own events.").wait_for(timeout=TIMEOUT)
    for name, (_, page) in pages.items():
        other = "ben" if name == "ann" else "ann"
        page.get_by_text(f"test.private-{name}").first.wait_for(state="attached", timeout=TIMEOUT)
        content = page.content()
        assert f"test.private-{other}" not in content
        page.reload()
        _signed_in(page)
        assert f">{other}<" not in page.content()
    for context, _ in pages.values():
        context.close()


def test_a_failing_page_shows_a_reference_and_no_traceback(
    live_app: str, browser, admin: Actor, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    _sign_in(page, live_app, "admin", ADMIN_PASSWORD)
    _signed_in(page)
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON petcare.audit_log FROM petcare_app")
    page.get_by_role("link", name="Audit log").click()
    message = page.get_by_text(re.compile(r"Something went wrong\. Reference: [0-9a-f]{12}"))
    message.wait_for(timeout=TIMEOUT)
    screenshot(page, "security-unexpected-error")
    content = page.content()
    assert "Traceback" not in content and 'File "' not in content
    assert "postgresql://" not in content and "password" not in content.lower()
    ref = re.search(r"Reference: ([0-9a-f]{12})", message.inner_text())
    assert ref is not None
    log = Path(__file__).resolve().parents[2] / "test-artifacts"
    logs = "".join(p.read_text(errors="replace") for p in log.glob("streamlit-*.log"))
    assert ref.group(1) in logs  # the traceback is logged server-side under the same id
    context.close()


def test_xsrf_and_websocket_origin_are_enforced_through_the_server(live_app: str) -> None:
    """L6 on the st.App server: upload without X-Xsrftoken is 403, a foreign Origin is refused."""
    request = urllib.request.Request(  # noqa: S310 - the test server
        live_app + "/_stcore/upload_file/some-session/some-file",
        data=b"--x--",
        method="PUT",
        headers={"Origin": "https://evil.example", "Content-Type": "multipart/form-data"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=20)  # noqa: S310
    assert info.value.code == 403
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_url = live_app.replace("http://", "ws://") + "/_stcore/stream"
    with pytest.raises(InvalidStatus):
        connect(ws_url, origin="https://evil.example", open_timeout=20).close()  # type: ignore[arg-type]
