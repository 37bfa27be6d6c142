"""`python -m bench screenshot`: the README's dashboard picture, taken from a live system.

Not a benchmark (`python -m bench all` leaves it out): it starts what `petcare-dba up` starts
(`_ui_system.demo_system`: the embedded store, the demo database, the background jobs and the
simulated clinic workload; then the app server with up's argv), waits until every dashboard
chart has drawn `POINTS` samples of the workload, signs in as the admin in headless Chromium at
1440x900 and saves the page to docs/img/dashboard.png. Re-run it after a change to the
dashboard; it takes two to three minutes, most of it the sampling interval.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import _ui_system as system_mod
from bench._ui_browser import EN, quiet, shown
from tests.fix_browser import CHROMIUM, CHROMIUM_ARGS

OUT = system_mod.ROOT / "docs" / "img" / "dashboard.png"
VIEWPORT = {"width": 1440, "height": 900}
POINTS = 8  # samples per line before the picture: a workload's shape, not a dot
LIMIT_S = 420.0
# The fewest points drawn by any line of any Plotly chart on the page (Plotly keeps the
# figure's traces on its graph div as `.data`).
FEWEST_POINTS = """() => {
  const plots = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')];
  if (!plots.length) return 0;
  let fewest = Infinity;
  for (const p of plots)
    for (const trace of p.data || []) fewest = Math.min(fewest, (trace.x || []).length);
  return fewest === Infinity ? 0 : fewest;
}"""


def _sign_in(browser: Any, base: str) -> Any:
    context = browser.new_context(locale="en-US", viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base)
    page.get_by_label(EN["login.username"]).fill(system_mod.ADMIN)
    page.get_by_role("textbox", name=EN["login.password"]).fill(system_mod.PASSWORD)
    page.get_by_role("button", name=EN["login.submit"], exact=True).click()
    shown(page, "dashboard", EN["nav.dashboard"])
    return page


def _wait_for_points(page: Any, points: int, limit_s: float) -> int:
    """Reload until every chart line has `points` samples; the fewest seen."""
    deadline = time.monotonic() + limit_s
    fewest = 0
    while time.monotonic() < deadline:
        page.reload()
        shown(page, "dashboard", EN["nav.dashboard"])
        quiet(page)
        fewest = int(page.evaluate(FEWEST_POINTS))
        if fewest >= points:
            return fewest
        page.wait_for_timeout(15_000)
    raise RuntimeError(f"the dashboard charts drew {fewest} points in {limit_s:.0f} s")


def take(out: Path = OUT, points: int = POINTS) -> dict[str, Any]:
    """Start the system, wait for the charts, save the screenshot; what was waited for."""
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with system_mod.demo_system() as sys_, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with system_mod.app(sys_) as served:
                page = _sign_in(browser, served.url)
                fewest = _wait_for_points(page, points, LIMIT_S)
                page.mouse.move(0, 0)  # no hover label over a chart
                page.wait_for_timeout(1000)  # the charts' own transitions end
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
        finally:
            browser.close()
    return {
        "file": str(out.relative_to(system_mod.ROOT)),
        "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}",
        "fewest_points_per_line": fewest,
        "seconds": round(time.monotonic() - started, 1),
        "monitoring_interval_s": sys_.rt.settings.monitoring_interval_s,
        "demo_workload_rate": sys_.rt.settings.demo_workload_rate,
    }


def main(quick: bool) -> dict[str, Any]:
    """`quick` waits for fewer samples (a smoke run, same picture path)."""
    return take(points=3 if quick else POINTS)
