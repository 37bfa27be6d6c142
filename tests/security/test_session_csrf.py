"""U5 and issue 13's /healthz, against the real app server: login CSRF, cross-site logout,
session rotation, and what /healthz tells strangers.

The app runs as `petcare-dba up` runs it (tests/fix_browser.py). Plain HTTP requests forge the
headers an attacker controls (Origin, Sec-Fetch-Site, cookies); a second local server on
another origin serves a page that, opened in the victim's Chromium, tries to sign the victim
into the attacker's account and to sign the victim out.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth, handoff
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.security.g_render_fixtures import (
    HEALTH_TOKEN,
    Listener,
    attacker_site,
    cookies_of,
    http,
)

pytestmark = pytest.mark.browser
TIMEOUT = 30000
NONCE = "N" * 43
__all__ = ["attacker_site"]  # a fixture, imported for pytest


@pytest.fixture
def test_settings(test_settings: settings_mod.Settings) -> settings_mod.Settings:
    return test_settings.with_overrides(health_token=HEALTH_TOKEN)


def _host(base: str) -> str:
    return base.split("://", 1)[1]


def _code_for(rt: Runtime, username: str, password: str, nonce: str = NONCE) -> tuple[str, str]:
    signed = auth.login(rt.store, rt.settings, username, password)
    return handoff.create_handoff(rt.store, rt.keyring, signed.actor, signed.token, nonce), (
        signed.token
    )


def _post(base: str, path: str, headers: dict[str, str], body: str = "") -> tuple[int, dict, str]:
    return http(base + path, method="POST", headers=headers, body=body)


def _whoami(base: str, token: str) -> int:
    return http(base + "/auth/whoami", headers={"Cookie": f"petcare_session={token}"})[0]


def test_handoff_refuses_get_foreign_origins_and_other_browsers(
    live_app: str, rt: Runtime, admin: Actor, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("mallory", "viewer")
    same = {
        "Origin": live_app,
        "Sec-Fetch-Site": "same-origin",
        "Cookie": f"petcare_preauth={NONCE}",
    }
    port = int(live_app.rsplit(":", 1)[1])
    forged = [
        {"Cookie": f"petcare_preauth={NONCE}"},  # no Origin, no Sec-Fetch-Site
        {**same, "Origin": f"http://127.0.0.1:{port + 1}"},  # another port: same site, not origin
        {**same, "Origin": f"http://localhost:{port}"},
        {**same, "Origin": "null"},  # a sandboxed frame
        {**same, "Sec-Fetch-Site": "same-site"},
        {**same, "Sec-Fetch-Site": "cross-site"},
        {**same, "Sec-Fetch-Site": "none"},
        {**same, "Origin": "javascript://" + _host(live_app)},
    ]
    for headers in forged:
        code, _ = _code_for(rt, "mallory", USER_PASSWORD)
        status, got, _ = _post(live_app, "/auth/session", headers, "code=" + quote(code))
        assert status == 403, headers
        assert "petcare_session" not in got.get("set-cookie", ""), headers
        # A GET with a code never sets a cookie (the path falls through to the app's page).
        status, got, body = http(live_app + "/auth/session?code=" + quote(code), headers=same)
        assert "petcare_session" not in got.get("set-cookie", "") and body != "ok"
    # Same origin, but the victim's browser holds another pre-auth nonce: refused, code burnt.
    code, _ = _code_for(rt, "mallory", USER_PASSWORD)
    victim = {**same, "Cookie": "petcare_preauth=" + "V" * 43}
    assert _post(live_app, "/auth/session", victim, "code=" + quote(code))[0] == 400
    assert _post(live_app, "/auth/session", same, "code=" + quote(code))[0] == 400
    # Without any pre-auth cookie, nothing either.
    code, _ = _code_for(rt, "mallory", USER_PASSWORD)
    bare = {"Origin": live_app, "Sec-Fetch-Site": "same-origin"}
    assert _post(live_app, "/auth/session", bare, "code=" + quote(code))[0] == 400
    # Positive control: the browser the code was minted for, from the app's own origin.
    code, token = _code_for(rt, "mallory", USER_PASSWORD)
    status, got, _ = _post(live_app, "/auth/session", same, "code=" + quote(code))
    assert status == 200 and f"petcare_session={token}" in got["set-cookie"]
    assert "HttpOnly" in got["set-cookie"] and "SameSite=strict" in got["set-cookie"]


def test_a_new_sign_in_rotates_the_session(live_app: str, rt: Runtime, admin: Actor) -> None:
    first_code, first = _code_for(rt, "admin", ADMIN_PASSWORD)
    same = {"Origin": live_app, "Sec-Fetch-Site": "same-origin"}
    headers = {**same, "Cookie": f"petcare_preauth={NONCE}"}
    assert _post(live_app, "/auth/session", headers, "code=" + first_code)[0] == 200
    code, second = _code_for(rt, "admin", ADMIN_PASSWORD)
    headers = {**same, "Cookie": f"petcare_preauth={NONCE}; petcare_session={first}"}
    assert _post(live_app, "/auth/session", headers, "code=" + code)[0] == 200
    assert _whoami(live_app, first) == 401  # the old token was revoked
    assert _whoami(live_app, second) == 200


def test_logout_refuses_cross_site_requests(live_app: str, rt: Runtime, admin: Actor) -> None:
    _, token = _code_for(rt, "admin", ADMIN_PASSWORD)
    cookie = {"Cookie": f"petcare_session={token}"}
    status, got, body = http(live_app + "/auth/logout", headers=cookie)  # GET: the app's page
    assert body != "signed out" and "petcare_session" not in got["set-cookie"]
    assert _whoami(live_app, token) == 200
    for headers in (
        cookie,
        {**cookie, "Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
        {**cookie, "Sec-Fetch-Site": "cross-site"},
        {**cookie, "Origin": "null"},
    ):
        assert _post(live_app, "/auth/logout", headers)[0] == 403, headers
        assert _whoami(live_app, token) == 200
    for site in ("cross-site", "same-site", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        assert http(live_app + "/auth/frame", headers=headers)[0] == 403, site
    status, got, _ = http(live_app + "/auth/frame", headers={"Sec-Fetch-Site": "same-origin"})
    assert status == 200 and "frame-ancestors 'self'" in got["content-security-policy"]
    same = {**cookie, "Origin": live_app, "Sec-Fetch-Site": "same-origin"}
    assert _post(live_app, "/auth/logout", same)[0] == 200  # positive control
    assert _whoami(live_app, token) == 401


def test_a_page_on_another_origin_cannot_sign_the_victim_in_or_out(
    live_app: str, browser, rt: Runtime, admin: Actor, make_user, attacker_site: Listener
) -> None:  # type: ignore[no-untyped-def]
    make_user("mallory", "viewer")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(1000)
    before = cookies_of(context, live_app)
    assert "petcare_session" in before and "petcare_preauth" in before
    # The attacker mints codes for their own account (in their own browser: their own nonce).
    codes = [_code_for(rt, "mallory", USER_PASSWORD, "M" * 43)[0] for _ in range(3)]
    app = live_app
    attacker_site.pages["/evil"] = f"""<!doctype html><body>
<form id=f method=POST action="{app}/auth/session" target=sink>
  <input name=code value="{codes[0]}"></form>
<form id=g method=POST action="{app}/auth/logout" target=sink2></form>
<iframe name=sink></iframe><iframe name=sink2></iframe>
<iframe src="{app}/auth/frame#session={codes[1]}"></iframe>
<iframe src="{app}/auth/frame#logout"></iframe>
<iframe src="{app}/auth/session?code={codes[2]}"></iframe>
<img src="{app}/auth/logout"><img src="{app}/auth/session?code={codes[2]}">
<script>
document.getElementById('f').submit();
document.getElementById('g').submit();
fetch("{app}/auth/logout", {{method: "POST", mode: "no-cors", credentials: "include"}});
fetch("{app}/auth/session", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "application/x-www-form-urlencoded"}}, body: "code={codes[2]}"}});
</script></body>"""
    attacker_site.pages["/nav"] = f'<script>location.href = "{app}/auth/frame#logout";</script>'
    evil = context.new_page()
    evil.goto(attacker_site.base + "/evil")
    evil.wait_for_timeout(3000)
    evil.goto(attacker_site.base + "/nav")  # a top-level navigation to the logout page
    evil.wait_for_timeout(2000)
    after = cookies_of(context, live_app)
    assert after["petcare_session"] == before["petcare_session"]
    (
        status,
        body,
    ) = http(
        live_app + "/auth/whoami",
        headers={"Cookie": f"petcare_session={after['petcare_session']}"},
    )[::2]
    assert status == 200 and json.loads(body)["username"] == "admin"
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for(timeout=TIMEOUT)
    assert page.get_by_text("mallory").count() == 0
    context.close()


def test_healthz_tells_strangers_the_status_only(
    live_app: str, rt: Runtime, admin: Actor, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("vera", "viewer")
    status, _, body = http(live_app + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    for wrong in (
        "Bearer wrong",
        "Bearer " + HEALTH_TOKEN[:-1],
        "Bearer " + HEALTH_TOKEN + "x",
        "Basic " + HEALTH_TOKEN,
        HEALTH_TOKEN,
        "Bearer ",
    ):
        status, _, body = http(live_app + "/healthz", headers={"Authorization": wrong})
        assert status == 200 and json.loads(body) == {"status": "ok"}, wrong
    _, viewer = _code_for(rt, "vera", USER_PASSWORD)
    status, _, body = http(live_app + "/healthz", headers={"Cookie": f"petcare_session={viewer}"})
    assert json.loads(body) == {"status": "ok"}
    for headers in (
        {"Authorization": "Bearer " + HEALTH_TOKEN},
        {"Cookie": "petcare_session=" + _code_for(rt, "admin", ADMIN_PASSWORD)[1]},
    ):
        status, _, body = http(live_app + "/healthz", headers=headers)
        report = json.loads(body)
        assert status == 200 and report["status"] == "ok" and report["healthy"] is True
        assert {c["name"] for c in report["components"]} >= {"metadata", "secret_key", "ai"}
