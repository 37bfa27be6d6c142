"""Browser journey in headless Chromium: sign in, see the dashboard, switch language, sign out."""

from __future__ import annotations

import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import screenshot
from tests.fix_db import ADMIN_PASSWORD, PgServer

pytestmark = pytest.mark.browser


def test_sign_in_dashboard_language_sign_out(
    live_app: str, browser, rt: Runtime, admin: Actor, pg: PgServer
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "server", pg.admin_url("postgres"), shared=True)
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Invalid username or password").wait_for(timeout=20000)
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Database size", exact=True).first.wait_for(timeout=30000)
    # The header's glance at the target is drawn after the charts (a chart is titled "Database
    # size" too): wait for the server version rather than assume it came first.
    page.get_by_text(f"{pg.major}.").first.wait_for(timeout=30000)
    screenshot(page, "journey-dashboard-en")
    language = page.get_by_role("combobox", name="Language")
    language.click()
    language.fill("Portu")
    page.get_by_role("option", name="Português (Brasil)").click()
    page.get_by_text("Tamanho do banco", exact=True).first.wait_for(timeout=20000)
    screenshot(page, "journey-dashboard-pt-BR")
    page.get_by_role("button", name="Sair").click()
    page.get_by_role("button", name="Entrar").wait_for(timeout=20000)
    screenshot(page, "journey-signed-out-pt-BR")
    context.close()


def test_browser_language_is_the_default(live_app: str, browser, admin: Actor) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="pt-BR")
    page = context.new_page()
    page.goto(live_app)
    page.get_by_role("button", name="Entrar").wait_for(timeout=30000)
    context.close()
