"""What `bench ui` does in the browser: sign in, switch pages, run SQL, and when each is shown.

Each page of the sidebar (petcare_dba.ui.pages_registry) has a "content shown" selector: its
title (the nav title, which is also the page's h1) plus the first thing that needs the page's
reads — a figure, a grid, the editor, or the explicit empty state when there is nothing to list.
Elements of the page being left are marked stale by Streamlit (`data-stale="true"`) until the new
run replaces them, so every selector looks at fresh elements only. `quiet()` waits until the
app's reruns are over (Streamlit's status widget shows no run for a moment), or, given counting
proxies, until neither link carried a round trip for a second: the end of an action's traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from petcare_dba.ui.i18n import catalogue
from petcare_dba.ui.pages_registry import PAGES
from tests.fix_faults import FaultProxy

WAIT_MS = 120_000
# Only elements carry `data-stale`; layout blocks (tabs, columns) hold elements.
FRESH = "[data-testid=stElementContainer]:not([data-stale=true])"
MAIN = "[data-testid=stMain]"
RUNNING = "[data-testid=stStatusWidget] [data-testid*=Running]"
EN = catalogue("en")


def _empty(key: str, kind: str = "stAlert") -> str:
    """An explicit empty state: the element of `kind` holding the string of `key`."""
    text = EN[key].replace('"', '\\"')
    return f'{{fresh}} [data-testid={kind}]:has-text("{text}")'


# page stem -> what shows that its content is there (any of, inside fresh elements)
CONTENT: dict[str, tuple[str, ...]] = {
    "dashboard": ("[data-testid=stPlotlyChart]",),
    "sql_editor": ("iframe[title*=code_editor]",),
    "history": ("[data-testid=stDataFrame]", _empty("history.none")),
    "projects": ("[data-testid=stTabs]", _empty("projects.none")),
    "explorer": ("[data-testid=stDataFrame]",),
    "backups": ("[data-testid=stDataFrame]", _empty("backups.none")),
    "monitoring": ("[data-testid=stTabs] {fresh} [data-testid=stDataFrame]",),
    "advisor": ("[data-testid=stMultiSelect]", _empty("advisor.no_run_yet")),
    "alerts": (
        "[data-testid=stTabs] {fresh} [data-testid=stAlert]",
        "[data-testid=stTabs] {fresh} [data-testid=stMarkdown]",
    ),
    "schedules": (
        "[data-testid=stTabs] {fresh} [data-testid=stDataFrame]",
        _empty("schedules.none"),
    ),
    "assistant": (
        "[data-testid=stChatInput]",
        _empty("assistant.disabled"),
    ),
    "tokens": ("[data-testid=stDataFrame]", _empty("tokens.none", "stCaptionContainer")),
    "audit": ("[data-testid=stDataFrame]",),
    "users": ("[data-testid=stDataFrame]",),
    "connections": ("[data-testid=stDataFrame]",),
    "settings": ("[data-testid=stDataFrame]",),
}


def in_main(selector: str) -> str:
    """`selector` inside the main area, on fresh elements (`{fresh}` marks where they start)."""
    if "{fresh}" not in selector:
        selector = "{fresh} " + selector
    return f"{MAIN} " + selector.replace("{fresh}", FRESH)


def sidebar_pages() -> list[tuple[str, str]]:
    """(stem, English title) of every registered page, in sidebar order (an admin sees all)."""
    out = []
    for spec in PAGES:
        stem = spec.file.rsplit("/", 1)[-1].removesuffix(".py")
        if stem not in CONTENT:
            raise KeyError(f"bench ui has no content selector for page {stem!r}")
        out.append((stem, EN[spec.title]))
    return out


def content(page: Any, stem: str, title: str) -> Any:
    """The locator of `stem`'s content: its title heading, then its first content element."""
    heading = f'{MAIN} {FRESH} h1:has-text("{title}")'
    inner = ", ".join(in_main(sel) for sel in CONTENT[stem])
    return page.locator(heading).first, page.locator(inner).first


def shown(page: Any, stem: str, title: str) -> None:
    heading, first = content(page, stem, title)
    heading.wait_for(state="visible", timeout=WAIT_MS)
    first.wait_for(state="visible", timeout=WAIT_MS)


def quiet(page: Any, proxies: tuple[FaultProxy, ...] = (), limit_s: float = 30.0) -> None:
    """Wait for the app's reruns to end (and the links to fall silent, given proxies)."""
    hold = 1.0 if proxies else 0.6
    deadline = time.monotonic() + limit_s
    seen = tuple(p.round_trips for p in proxies)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = tuple(p.round_trips for p in proxies)
        if now != seen or page.locator(RUNNING).count() > 0:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= hold:
            return


def timed(action: Callable[[], None], done: Callable[[], None]) -> float:
    """Seconds from the start of `action` until `done` returns."""
    started = time.perf_counter()
    action()
    done()
    return time.perf_counter() - started


def sign_in(browser: Any, base: str, user: str, password: str) -> tuple[Any, float]:
    """A new tab signs in; (the page, seconds from the submit to the first dashboard figure)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base)
    page.get_by_label(EN["login.username"]).fill(user)
    page.get_by_role("textbox", name=EN["login.password"]).fill(password)
    button = page.get_by_role("button", name=EN["login.submit"], exact=True)
    seconds = timed(button.click, lambda: shown(page, "dashboard", EN["nav.dashboard"]))
    return page, seconds


def click_page(page: Any, title: str) -> None:
    link = page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title, exact=True)
    # Forced: the dashboard's fragment redraws on a timer, so the page is never "stable".
    link.click(force=True, no_wait_after=True, timeout=WAIT_MS)


def switch(page: Any, stem: str, title: str) -> float:
    """Seconds from the sidebar click to the page's content."""
    return timed(lambda: click_page(page, title), lambda: shown(page, stem, title))


def type_sql(page: Any, sql: str) -> None:
    """Replace the editor's text (the Ace editor in the component's iframe)."""
    frame = page.frame_locator("iframe[title*='code_editor']")
    box = frame.locator(".ace_text-input").first
    box.wait_for(state="attached", timeout=WAIT_MS)
    frame.locator(".ace_content").first.click()
    box.press("Control+a")
    box.press("Delete")
    box.press_sequentially(sql, delay=5)
    box.press("Escape")  # closes the autocomplete popup, if open
    # The debounced text change reaches the app and reruns it: a key press during that rerun
    # can be dropped by the component (tests/e2e/test_journey_editor.py waits the same).
    page.wait_for_timeout(1500)


def run_sql(page: Any, column: str) -> float:
    """Ctrl+Enter on the typed `SELECT 1 AS <column>`: seconds until its result grid shows."""
    box = page.frame_locator("iframe[title*='code_editor']").locator(".ace_text-input").first
    header = page.locator(in_main("[data-testid=stDataFrame] table [role=columnheader]"))
    target = header.filter(has_text=column).first
    # The grid's table is fallback content of a canvas: attached, never "visible".
    return timed(
        lambda: box.press("Control+Enter"),
        lambda: target.wait_for(state="attached", timeout=WAIT_MS),
    )
