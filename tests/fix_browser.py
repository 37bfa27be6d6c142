"""Browser fixtures: the real app served by Streamlit on a free port, and headless Chromium.

The app runs as `petcare-dba up` runs it (same argv builder, PETCARE_* settings in the
environment) against this test's metadata store. Chromium is Debian's (/usr/bin/chromium) driven
by Playwright; it is never downloaded. In CI (PETCARE_REQUIRE_DB=1) a missing browser fails the
run instead of skipping.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.cli.core import streamlit_command
from petcare_dba.db.embedded import port_is_free
from petcare_dba.services.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("PETCARE_REQUIRE_DB") == "1":
        pytest.fail(f"browser tests are required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def live_app(test_settings: settings_mod.Settings, rt: Runtime) -> Iterator[str]:
    """Serve the app on a free port; yields its base URL."""
    import random

    # Random, not first-free: parallel test runs would otherwise race for the same port.
    port = next(p for p in random.sample(range(8600, 9600), 100) if port_is_free(p))
    settings = test_settings.with_overrides(port=port)
    env = dict(os.environ)
    for name, source in settings.sources.items():
        if source in ("env", "cli"):
            env["PETCARE_" + name.upper()] = str(settings.values[name])
    log = ARTIFACTS / f"streamlit-{port}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            streamlit_command(settings),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start; see {log}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def idle(page: Any, timeout_ms: int = 30_000) -> None:
    """Wait until the page's script run is over (Streamlit marks the app 'notRunning'), so that
    what a test types next lands in the elements of the finished run, not in ones it replaces."""
    page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout_ms,
    )


def visible_count(page: Any, selector: str) -> int:
    """How many elements matching `selector` the user sees (laid out with a height, not hidden).

    Streamlit mounts a timed fragment rerun's new Plotly chart hidden beside its stale copy and
    swaps them once it has drawn, so a DOM count doubles for a moment while the page does not
    (the stale copy stays on screen until then, so it is counted: it is what the user sees).
    """
    return int(
        page.evaluate(
            "(sel) => Array.from(document.querySelectorAll(sel)).filter(e => {"
            " const r = e.getBoundingClientRect(); const s = getComputedStyle(e);"
            " return r.height > 0 && r.width > 0 && s.visibility !== 'hidden'; }).length",
            selector,
        )
    )
