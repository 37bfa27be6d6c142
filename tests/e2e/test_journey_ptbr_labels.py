"""Browser journey (issue 19): in pt-BR at 1280 px, no button label is cut short.

Portuguese labels run longer than English ones; a button in a narrow fixed-ratio column cuts its
label with an ellipsis ("Explicar com A…" in the SQL editor's row, "Atualizar cat…" in the
explorer). Each page's visible buttons are measured in Chromium: the label's text must fit
inside the button and inside every ancestor that clips overflow. The SQL editor, whose tab bar
cut "Rename" and "Close" in a 1024 px window, is measured again at 1024 and 1440 px in English
and pt-BR (the tab bar's buttons must be among those measured).
"""

from __future__ import annotations

from typing import Any

import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from petcare_dba.ui.pages_registry import PAGES
from tests.fix_browser import idle, screenshot
from tests.fix_db import ADMIN_PASSWORD, PgServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT = 30000
# The pages whose button rows were cut (the SQL editor's run row, the explorer's refresh).
CHECKED = ("pages/sql_editor.py", "pages/explorer.py", "pages/history.py", "pages/backups.py")

# Visible buttons whose label (text node range) reaches past the button or a clipping ancestor.
CUT = """() => {
  const out = [];
  for (const b of document.querySelectorAll('[data-testid=stMain] button')) {
    const box = b.getBoundingClientRect();
    const text = b.innerText.trim();
    if (!text || box.width === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(b);
    const label = range.getBoundingClientRect();
    let right = box.right, left = box.left;
    for (let el = b.parentElement; el && el !== document.body; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.overflowX !== 'visible') {
        const r = el.getBoundingClientRect();
        right = Math.min(right, r.right);
        left = Math.max(left, r.left);
      }
    }
    const inner = b.querySelector('p');
    const ellipsis = inner && inner.scrollWidth > inner.clientWidth + 1;
    if (label.right > right + 1 || label.left < left - 1 || ellipsis)
      out.push(text.replace(/\\s+/g, ' '));
  }
  return out;
}"""


# Every measured button's label: the tab bar's must be among them, or the check saw nothing.
LABELS = """() => [...document.querySelectorAll('[data-testid=stMain] button')]
  .filter(b => b.getBoundingClientRect().width > 0)
  .map(b => b.innerText.trim().replace(/\\s+/g, ' '))
  .filter(Boolean)"""
TAB_BAR = ("editor.tabs.new", "editor.tabs.rename", "editor.tabs.close")


def _signed_in(browser: Any, base: str, locale: str, width: int, language: str) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base)
    page.locator("input[type=text]").first.fill("admin")
    page.locator("input[type=password]").first.fill(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=i18n.translate(language, PAGES[0].title)).wait_for(timeout=WAIT)
    return page


def _open(page: Any, language: str, file: str) -> None:
    page.get_by_role("link", name=i18n.translate(language, _title(file)), exact=True).click()
    page.wait_for_url(f"**/{file.rsplit('/', 1)[-1].removesuffix('.py')}", timeout=WAIT)
    idle(page)
    page.locator("h1").first.wait_for(timeout=WAIT)
    page.wait_for_timeout(500)  # the last fonts and icons settle


def _title(file: str) -> str:
    return next(p.title for p in PAGES if p.file == file)


def _editor_widths(page: Any, language: str, cut: dict[str, list[str]]) -> None:
    """The SQL editor at 1024 and 1440 px: the tab bar measured with every other button."""
    _open(page, language, "pages/sql_editor.py")
    tab_bar = {i18n.translate(language, key) for key in TAB_BAR}
    for width in (1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(500)  # the layout follows the window
        name = f"editor-tab-bar-{language}-{width}"
        screenshot(page, name)
        labels = page.evaluate(LABELS)  # an icon's ligature name is part of the text
        assert all(any(want in got for got in labels) for want in tab_bar), (name, labels)
        found = page.evaluate(CUT)
        if found:
            cut[name] = found


# One test, one app server: a second server and sign-in would cost CI half a minute.
def test_no_button_label_is_cut_in_pt_br_nor_in_the_editor_at_1024_and_1440_px(
    live_app: str, browser: Any, rt: Runtime, admin: Actor, pg: PgServer
) -> None:
    connections.add(rt, admin, "self", pg.admin_url("postgres"), shared=True)
    page = _signed_in(browser, live_app, "pt-BR", 1280, "pt-BR")
    cut: dict[str, list[str]] = {}
    for spec in (p for p in PAGES if p.file in CHECKED):
        _open(page, "pt-BR", spec.file)
        found = page.evaluate(CUT)
        if found:
            screenshot(page, f"ptbr-cut-{spec.file.rsplit('/', 1)[-1].removesuffix('.py')}")
            cut[spec.file] = found
    _editor_widths(page, "pt-BR", cut)
    page.context.close()
    english = _signed_in(browser, live_app, "en-US", 1024, "en")
    _editor_widths(english, "en", cut)
    english.context.close()
    assert cut == {}
