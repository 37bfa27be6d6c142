"""Browser journey of the explorer's inline editing (issue 19): edit a cell, review, confirm.

Headless Chromium opens table t in the explorer, switches "Edit rows" on, types a new value into
a cell of the data editor (the grid is a canvas: the cell is clicked where it is drawn),
reviews the UPDATE the edit became and confirms it; the
row changes in the database and the engine's history has the statement. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_browser import screenshot
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name

pytestmark = pytest.mark.browser
WAIT = 30000


def test_edit_a_cell_in_the_explorer_and_confirm(
    live_app: str, browser: Any, rt: Runtime, admin: Actor, target: Target
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.goto(live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Explorer").click(timeout=2 * WAIT)  # a shared, busy machine
    page.get_by_text("Catalog read in").wait_for(timeout=WAIT)
    box = page.get_by_role("combobox", name="Relation")
    box.click()
    box.fill("public.t")
    page.get_by_role("option", name="public.t", exact=True).click()
    page.get_by_role("tab", name="Data").click()
    page.get_by_text("Page 1 ·").wait_for(timeout=WAIT)
    screenshot(page, "journey-grid-data")

    page.get_by_text("Edit rows", exact=True).click()
    page.get_by_role("button", name="Review changes").wait_for(timeout=WAIT)
    editor = page.locator("[data-testid='stDataFrame']").filter(has_text="three").last
    editor.locator("table [role='gridcell']").first.wait_for(state="attached", timeout=WAIT)
    # The grid is a canvas: click the cell of row 2, column "note" (the right half of
    # the stretched two-column grid, below the header row), type and press Enter.
    area = editor.bounding_box()
    assert area is not None
    # On a loaded machine the first key can reach the grid before the click has selected the
    # cell (it then opens the editor without that key: "eux"); the grid's accessible table shows
    # what the cell holds, so the edit is typed again until the cell reads "deux".
    edited = editor.locator("table [role='gridcell']", has_text="deux")
    for _ in range(3):
        page.mouse.click(area["x"] + area["width"] * 0.75, area["y"] + 35 * 2 + 17)
        page.wait_for_timeout(500)
        page.keyboard.type("deux", delay=50)  # typing into a selected cell replaces its text
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)  # the edit reaches the app
        if edited.count() and edited.first.inner_text().strip() == "deux":
            break
    screenshot(page, "journey-grid-edited")
    page.get_by_role("button", name="Review changes").click()
    page.get_by_text("These statements will run in one transaction").wait_for(timeout=WAIT)
    page.get_by_text("IS NOT DISTINCT FROM 'two'").wait_for(timeout=WAIT)
    screenshot(page, "journey-grid-review")
    assert target.table() == [(1, "one"), (2, "two"), (3, "three")]  # nothing ran yet

    page.get_by_role("button", name="Run and save").click()
    page.get_by_text("Saved: 1 statements ran.").wait_for(timeout=WAIT)
    screenshot(page, "journey-grid-saved")
    assert target.table() == [(1, "one"), (2, "deux"), (3, "three")]
    assert any(h.sql_text.startswith('UPDATE "public"."t"') for h in engine.history(rt, admin))
    context.close()
