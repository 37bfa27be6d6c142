"""The parts of `python -m bench ui` that run in seconds: page table, quantiles, browser half.

The whole benchmark (the demo system, two app servers, the proxies) takes minutes, so it is not
run here; tests/test_quality.py imports it. What is run: every registered page has a "content
shown" selector under its English title, the quantiles are nearest-rank, and in headless
Chromium the browser half (fresh-element selectors, sidebar clicks, waiting for reruns to end)
measures the bare Streamlit baseline on the installed Streamlit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import _ui_browser, _ui_system
from bench import ui as bench_ui
from petcare_dba.ui.i18n import translate
from petcare_dba.ui.pages_registry import PAGES


def test_every_sidebar_page_has_a_content_selector_under_its_title() -> None:
    stems = [spec.file.rsplit("/", 1)[-1].removesuffix(".py") for spec in PAGES]
    pages = _ui_browser.sidebar_pages()
    assert [stem for stem, _ in pages] == stems
    assert [title for _, title in pages] == [translate("en", spec.title) for spec in PAGES]
    assert set(_ui_browser.CONTENT) == set(stems)  # no selector left for a page that went


def test_selectors_see_fresh_elements_of_the_main_area_only() -> None:
    for stem, _ in _ui_browser.sidebar_pages():
        for selector in _ui_browser.CONTENT[stem]:
            built = _ui_browser.in_main(selector)
            assert built.startswith("[data-testid=stMain] ")
            assert _ui_browser.FRESH in built and "{fresh}" not in built
    assert "Tabs] [data-testid=stElementContainer]:not" in _ui_browser.in_main(
        _ui_browser.CONTENT["monitoring"][0]
    )


def test_quantiles_are_nearest_rank() -> None:
    assert bench_ui.summary([float(i) for i in range(1, 21)]) == {
        "p50": 10.5,
        "p95": 19.0,
        "max": 20.0,
        "n": 20,
    }
    assert bench_ui.summary([float(i) for i in range(1, 101)])["p95"] == 95.0
    assert bench_ui.summary([0.25]) == {"p50": 0.25, "p95": 0.25, "max": 0.25, "n": 1}


@pytest.mark.browser
def test_the_browser_half_measures_a_bare_streamlit_app(browser: Any, tmp_path: Path) -> None:
    with _ui_system.hello_app(tmp_path) as hello:
        figures = bench_ui.bare_streamlit(browser, hello.url, rounds=1)
    assert 0 < figures["load_to_figure_s"] < 60
    switches = figures["page_switch_s"]
    assert switches["n"] == 2  # One -> Two -> One, each until its figure or grid showed
    assert 0 < switches["p50"] <= switches["max"] < 60
