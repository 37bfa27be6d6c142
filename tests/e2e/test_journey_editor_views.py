"""Browser journey of the SQL editor's tabs, Ctrl+Enter, chart builder and visual EXPLAIN.

In headless Chromium: two tabs are opened and filled, the page is reloaded and both come back
(the last one open, its text in Ace); Ctrl+Enter pressed right after typing — inside the Ace
box's 250 ms change debounce, the case that once lost a first Ctrl+Enter — runs every time;
a bar chart is built from a result; EXPLAIN ANALYZE is drawn as an icicle and a tree with the
hot node marked, and two plans are compared. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.test_journey_editor import WAIT, cells, sign_in_to_editor
from tests.fix_browser import screenshot
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
# A remount (new or switched tab) leaves the old frame in the page for a while, 0 px high.
ACE = "iframe[title*='code_editor']:not([height='0'])"


def one_editor(page: Any) -> Any:
    """The Ace frame, once a remount (new tab, switched tab) has dropped the old one."""
    page.wait_for_function(f"document.querySelectorAll({ACE!r}).length === 1", timeout=WAIT)
    return page.frame_locator(ACE)


def wait_for_ace_text(page: Any, text: str) -> None:
    """Wait until the shown Ace box holds `text` (its frame is same-origin)."""
    page.wait_for_function(
        """([sel, text]) => [...document.querySelectorAll(sel)].some(
            f => (f.contentDocument?.querySelector('.ace_content')?.textContent ?? '')
                 .includes(text))""",
        arg=[ACE, text],
        timeout=WAIT,
    )


def _ace(page: Any) -> Any:
    return one_editor(page).locator(".ace_text-input").first


def type_fast(page: Any, sql: str) -> None:
    """Replace the text and press Ctrl+Enter at once, before the debounced change is sent."""
    editor = _ace(page)
    editor.wait_for(state="attached", timeout=WAIT)
    page.frame_locator(ACE).locator(".ace_content").first.click()
    editor.press("Control+a")
    editor.press("Delete")
    editor.press_sequentially(sql, delay=0)
    editor.press("Control+Enter")


def ace_text(page: Any) -> str:
    return str(page.frame_locator(ACE).locator(".ace_content").first.inner_text())


def wait_for_cell(page: Any, text: str) -> None:
    deadline = time.monotonic() + WAIT / 1000
    while time.monotonic() < deadline:
        try:
            if text in cells(page):
                return
        except Exception:  # noqa: S110 - the grid is being redrawn
            pass
        page.wait_for_timeout(200)
    raise AssertionError(f"{text!r} never appeared in the result grid")


def test_tabs_reload_ctrl_enter_chart_and_visual_explain(
    live_app: str, browser: Any, target: Target
) -> None:
    page = sign_in_to_editor(browser, live_app)
    page.get_by_text("Query 1").wait_for(timeout=WAIT)

    # Ctrl+Enter right after the last key, five times in a row: none may be lost.
    for i in range(5):
        type_fast(page, f"SELECT 'run{i}' AS v")
        wait_for_cell(page, f"run{i}")
    screenshot(page, "editor-ctrl-enter")

    page.get_by_role("button", name="New tab").click()
    page.get_by_text("Query 2").wait_for(timeout=WAIT)
    type_fast(page, "SELECT g AS n, 'k' || g % 2 AS kind FROM generate_series(1, 6) g")
    wait_for_cell(page, "k1")
    page.wait_for_timeout(1500)  # the debounced change autosaves the tab

    page.reload()
    page.get_by_role("heading", name="SQL editor").wait_for(timeout=WAIT)
    page.get_by_text("Query 1").wait_for(timeout=WAIT)
    page.get_by_text("Query 2").wait_for(timeout=WAIT)
    wait_for_ace_text(page, "generate_series")
    screenshot(page, "editor-tabs-after-reload")
    page.get_by_text("Query 1").click()
    wait_for_ace_text(page, "run4")
    page.get_by_text("Query 2").click()
    wait_for_ace_text(page, "generate_series")

    one_editor(page).locator(".ace_content").first.click()
    _ace(page).press("Control+Enter")
    wait_for_cell(page, "k1")
    page.get_by_text("Chart", exact=True).click()
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for(timeout=WAIT)
    assert chart.locator("g.barlayer .point").count() == 6  # one bar per row
    screenshot(page, "editor-bar-chart")

    target.execute("CREATE TABLE m AS SELECT g AS a, g AS b FROM generate_series(1, 20000) g")
    target.execute("ANALYZE m")
    type_fast(page, "SELECT * FROM m WHERE a = b ORDER BY a DESC")
    wait_for_cell(page, "20000")  # the run has ended: the page takes the next request
    page.get_by_role("button", name="Explain", exact=True).click()
    page.get_by_text(re.compile(r"\d+ nodes, total cost")).first.wait_for(timeout=WAIT)
    page.get_by_role("button", name="Explain analyze").click()
    page.get_by_text("Seq Scan on m: PostgreSQL expected 100 rows and got 20000").wait_for(
        timeout=WAIT
    )
    assert page.locator("[data-testid='stPlotlyChart'] g.slice").count() >= 2  # icicle nodes
    screenshot(page, "editor-visual-explain")
    page.get_by_text("Compare two plans").click()
    page.get_by_text("Left plan").wait_for(timeout=WAIT)
    screenshot(page, "editor-plans-compared")
    page.context.close()
