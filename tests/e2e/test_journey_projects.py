"""Browser journey of projects with two users in two browser contexts.

Olga creates a project, invites Vera, types two versions of a script into the SQL editor's code
component (Ace) and saves them, reads the diff (unified, then side by side: the long second
version wraps in its cell, no horizontal scroll, and the `</td><script>` in it shows as text
and never runs), reverts, runs it on a connection and sees the run history; Vera has the
project open the whole time and sees each new version appear ("edited by olga ...") without
reloading, through the page's self-refreshing fragment.
"""

from __future__ import annotations

from typing import Any

import pytest

from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import runs, versions
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import idle, screenshot
from tests.fix_db import USER_PASSWORD
from tests.fix_engine import Target, target

__all__ = ["target"]
pytestmark = pytest.mark.browser
WAIT = 30_000
LONG_TAIL = " -- </td><script>window.pwned = 1</script>" + " wrap me" * 40


def _sign_in(browser: Any, url: str, user: str) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_label("Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("heading", name="Projects").wait_for(timeout=WAIT)
    return page


def _choose(page: Any, label: str, option: str) -> None:
    """Pick an option of a selectbox (retried: a rerun elsewhere on the page can close it)."""
    for attempt in range(3):
        box = page.get_by_role("combobox", name=label).first
        box.click()
        box.fill(option)
        try:
            page.get_by_role("option", name=option, exact=True).first.click(timeout=5000)
            return
        except Exception:
            if attempt == 2:
                screenshot(page, "projects-choose-failed")
                raise
            page.keyboard.press("Escape")


def _type(page: Any, label: str, text: str) -> None:
    field = page.get_by_label(label).first
    field.fill(text)
    field.press("Control+Enter" if field.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
    page.wait_for_timeout(300)


def _code(page: Any, text: str) -> None:
    """Replace the script's text in the code component (Ace, inside its iframe)."""
    frame = page.frame_locator("iframe[title*='code_editor']").first
    frame.locator(".ace_content").first.click(timeout=WAIT)
    box = frame.locator(".ace_text-input").first
    box.press("Control+a")
    box.press("Delete")
    box.press_sequentially(text, delay=2)
    box.press("Escape")  # closes an autocomplete popup, if open
    page.wait_for_timeout(800)  # the debounced change reaches the app (blur would send it too)


def _wrapped_side_by_side(page: Any) -> None:
    """Side by side: the long line wraps inside its cell and nothing scrolls sideways."""
    page.get_by_text("Side by side", exact=True).click()
    table = page.locator("div.petcare-diff table").first
    table.wait_for(timeout=WAIT)
    box = page.locator("div.petcare-diff").first
    scroll, client = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll <= client, f"the diff scrolls sideways ({scroll} > {client})"
    cell = table.locator("tr[data-tag='replace'] td").nth(3)
    height = cell.evaluate("e => e.getBoundingClientRect().height")
    line = cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert height >= 3 * line, f"the long line did not wrap ({height} px, line {line} px)"
    assert "</td><script>window.pwned = 1</script>" in cell.text_content()
    assert page.evaluate("() => window.pwned === undefined"), "script text ran"
    assert table.locator("script").count() == 0
    table.scroll_into_view_if_needed()  # Streamlit scrolls an inner box: full_page misses it
    screenshot(page, "projects-diff-wrapped")
    page.get_by_text("Unified", exact=True).click()


def test_two_users_create_invite_save_diff_revert_run_history(
    live_app: str, browser: Any, rt: Runtime, make_user: Any, target: Target
) -> None:
    olga: Actor = make_user("olga", "analyst")
    make_user("vera", "viewer")
    page = _sign_in(browser, live_app, "olga")
    page.get_by_text("New project", exact=True).click()
    idle(page)  # the expander's form is drawn by a rerun: type into the finished one
    name = page.get_by_label("Name").first
    name.fill("Pets")  # in a form: Enter would submit it
    assert name.input_value() == "Pets"
    page.get_by_role("button", name="Create").click()
    page.get_by_text("Project Pets created.").wait_for(timeout=WAIT)
    [project] = projects.list_projects(rt, olga)

    page.get_by_role("tab", name="Members").click()
    _choose(page, "Invite user", "vera")
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text("vera added as viewer.").wait_for(timeout=WAIT)
    watcher = _sign_in(browser, live_app, "vera")
    watcher.get_by_text("Owner: olga · your role: viewer").wait_for(timeout=WAIT)

    page.get_by_role("tab", name="Scripts").click()
    _type(page, "Script name", "count")
    _code(page, "SELECT count(*) AS n FROM t")
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved as version 1.").wait_for(timeout=WAIT)
    watcher.get_by_text("(count v1)").wait_for(timeout=WAIT)  # no reload: the fragment polls
    _code(page, "SELECT count(*) AS n FROM t WHERE id > 1" + LONG_TAIL)
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved as version 2.").wait_for(timeout=WAIT)
    watcher.get_by_text("(count v2)").wait_for(timeout=WAIT)
    page.get_by_text("+SELECT count(*) AS n FROM t WHERE id > 1").first.wait_for(timeout=WAIT)
    screenshot(page, "projects-diff")
    assert versions.version(rt, olga, project.id, "count").content == (
        "SELECT count(*) AS n FROM t WHERE id > 1" + LONG_TAIL
    )
    _wrapped_side_by_side(page)

    _choose(page, "Version to restore", "1")
    page.get_by_role("button", name="Revert").click()
    page.get_by_text("Version 3 now holds the content of version 1.").wait_for(timeout=WAIT)
    assert versions.version(rt, olga, project.id, "count").content == "SELECT count(*) AS n FROM t"

    _choose(page, "Connection", "tgt")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Version 3 on tgt").wait_for(timeout=WAIT)
    page.get_by_text("Duration per run").wait_for(timeout=WAIT)
    assert [r.version for r in runs.runs(rt, olga, project.id, "count")] == [3]
    watcher.get_by_text("(count v3)").wait_for(timeout=WAIT)
    watcher.get_by_role("button", name="Show the changes").click()
    watcher.get_by_text("Version 3 by olga").wait_for(timeout=WAIT)  # the script, read-only
    screenshot(page, "projects-run-history")
    screenshot(watcher, "projects-watcher")
    page.context.close()
    watcher.context.close()
