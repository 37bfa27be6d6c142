"""Browser journey (issue 19): in pt-BR at 1280 px, no button label is cut short.

Portuguese labels run longer than English ones; a button in a narrow fixed-ratio column cuts its
label with an ellipsis ("Explicar com A…" in the SQL editor's row, "Atualizar cat…" in the
explorer). Each page's visible buttons are measured in Chromium: the label's text must fit
inside the button and inside every ancestor that clips overflow.
"""

from __future__ import annotations

from typing import Any

import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from petcare_dba.ui.pages_registry import PAGES
from tests.fix_browser import screenshot
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


def idle(page: Any) -> None:
    page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=WAIT,
    )


def test_no_button_label_is_cut_in_pt_br(
    live_app: str, browser: Any, rt: Runtime, admin: Actor, pg: PgServer
) -> None:
    connections.add(rt, admin, "self", pg.admin_url("postgres"), shared=True)
    context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_app)
    page.locator("input[type=text]").first.fill("admin")
    page.locator("input[type=password]").first.fill(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=i18n.translate("pt-BR", PAGES[0].title)).wait_for(timeout=WAIT)
    cut: dict[str, list[str]] = {}
    for spec in (p for p in PAGES if p.file in CHECKED):
        page.get_by_role("link", name=i18n.translate("pt-BR", spec.title), exact=True).click()
        page.wait_for_url(f"**/{spec.file.rsplit('/', 1)[-1].removesuffix('.py')}", timeout=WAIT)
        idle(page)
        page.locator("h1").first.wait_for(timeout=WAIT)
        page.wait_for_timeout(500)  # the last fonts and icons settle
        found = page.evaluate(CUT)
        if found:
            screenshot(page, f"ptbr-cut-{spec.file.rsplit('/', 1)[-1].removesuffix('.py')}")
            cut[spec.file] = found
    context.close()
    assert cut == {}
