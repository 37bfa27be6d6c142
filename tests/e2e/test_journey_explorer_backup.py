"""Browser journey on the demo database: explore tables, open one, read its DDL and data, see
its FK picture, back it up, verify and restore it into a new table with its constraints and
indexes."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from petcare_dba.db.demo import build_demo
from petcare_dba.services import backups, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import idle, screenshot
from tests.fix_db import ADMIN_PASSWORD, PgServer

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[str]:
    name = pg.create_database()
    build_demo(pg.admin_url(name), 1)
    connections.add(rt, admin, "demo", pg.admin_url(name), shared=True)
    yield pg.admin_url(name)
    pg.drop_database(name)


def _pick(page, label: str, text: str, option: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    page.get_by_role("option", name=option, exact=True).click()


def test_explore_the_demo_then_back_up_and_restore_a_table(
    live_app: str, browser, rt: Runtime, admin: Actor, demo: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-US", viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.goto(live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Explorer").click()
    page.get_by_text("Catalog read in").wait_for(timeout=30000)
    screenshot(page, "journey-explorer-list")
    page.get_by_label("Search names, columns and comments").fill("microchip")
    page.keyboard.press("Enter")
    page.get_by_text("matches").wait_for(timeout=20000)
    _pick(page, "Relation", "public.pets", "public.pets")
    page.get_by_role("tab", name="DDL").click()
    page.get_by_text("CREATE TABLE public.pets").wait_for(timeout=20000)
    screenshot(page, "journey-explorer-ddl")
    page.get_by_role("tab", name="Relationships").click()
    page.locator("svg").filter(has_text="public.tutors").first.wait_for(timeout=20000)
    screenshot(page, "journey-explorer-fk")
    page.get_by_role("tab", name="Data").click()
    page.get_by_text("Page 1 ·").wait_for(timeout=20000)
    screenshot(page, "journey-explorer-data")

    page.get_by_role("link", name="Backups").click()
    page.get_by_text("Backup store:").wait_for(timeout=20000)
    _pick(page, "Table", "public.clinics", "public.clinics")
    page.get_by_role("button", name="Back up", exact=True).click()
    page.get_by_text("Backup 1 of public.clinics").wait_for(timeout=60000)
    idle(page)  # the run that made the backup draws Verify last: click the finished one
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("Backup 1 verified").wait_for(timeout=60000)
    page.get_by_text("Also recreate the other indexes").click()
    page.get_by_role("button", name="Restore").last.click()
    page.get_by_text("rows into public.clinics_restored_1").wait_for(timeout=60000)
    page.get_by_text("Recreated: primary key clinics_restored_1_pkey").wait_for(timeout=20000)
    screenshot(page, "journey-backups-restored")
    context.close()
    with psycopg.connect(demo) as conn:
        a = conn.execute("SELECT count(*) FROM public.clinics").fetchone()
        b = conn.execute("SELECT count(*) FROM public.clinics_restored_1").fetchone()
    assert a == b
    with psycopg.connect(demo) as conn:
        keys = conn.execute(
            "SELECT contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c') ORDER BY 1, 2",
            ["public.clinics"],
        ).fetchall()
        again = conn.execute(
            "SELECT contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c') ORDER BY 1, 2",
            ["public.clinics_restored_1"],
        ).fetchall()
    assert keys and again == keys  # the restored copy has the original's key and checks
    assert backups.get(rt, admin, 1).verify_ok is True
