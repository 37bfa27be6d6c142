"""Benchmark `ui` (issue 19, fast pages): sign-in and page switches in headless Chromium.

On what `petcare-dba up` starts (embedded store, the demo database, the jobs and the simulated
clinic workload running; bench/_ui_system.py), the admin signs in and the bench measures (a)
`signin_to_figure_s`: the sign-in's submit until the first dashboard Plotly figure is visible
(goal <= 2.0 s); (b) `page_switch_s`: a sidebar click until that page's content is visible
(its title and first figure, grid, editor or explicit empty state; bench/_ui_browser.py), for
every page of the sidebar, round after round (5, `--quick` 2): p50/p95/max over every switch
(goal p95 <= 1.0 s) and each page's first visit and median; (c) `sql_run_s`: one Run (Ctrl+Enter)
of `SELECT 1` until its grid shows. Then a second app server reaches the metadata store, and a
connection the target, each through the engine bench's delaying, counting proxy (20 ms round
trips, PETCARE_BENCH_RTT_MS), and `remote` gives each action's round trips per link — a
sign-in, a page switch to the dashboard, one Run — with its time over those links. A count is the
least of its repeats (the jobs' sampling and the app's pollers add to some windows; the action's
own trips are in each; `idle_round_trips_per_s` is that noise). `pages_round_trips` is one pass
over the sidebar: [metadata, target, seconds] per page, to find a page's first-paint reads.
Baseline in the same run: a bare two-page Streamlit app (a title and a Plotly figure; a title and
a grid) on the same Streamlit — its load to the figure and its page switch — and a raw `SELECT 1`
on a warm psycopg connection through the same proxy.
"""

from __future__ import annotations

import math
import os
import statistics
from typing import Any

import psycopg

from bench import _ui_browser as ui
from bench import _ui_system as system_mod
from bench._engine_env import machine, proxied
from bench._engine_env import timed as timed_ms
from petcare_dba.services import connections
from tests.fix_browser import CHROMIUM, CHROMIUM_ARGS
from tests.fix_faults import FaultProxy

REMOTE = "bench_remote"  # sorts before `demo`: the connection a fresh session starts on
IDLE_S = 10
EN_USERS = dict(ui.sidebar_pages())["users"]
HELLO_PAGES = (("Two", "[data-testid=stDataFrame]"), ("One", "[data-testid=stPlotlyChart]"))


def _pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    """p50/p95/max of seconds, rounded to ms."""
    return {
        "p50": round(statistics.median(values), 3),
        "p95": round(_pct(values, 0.95), 3),
        "max": round(max(values), 3),
        "n": len(values),
    }


def _local(browser: Any, base: str, rounds: int) -> dict[str, Any]:
    pages = ui.sidebar_pages()
    signins = []
    for _ in range(max(2, rounds // 2)):
        page, seconds = ui.sign_in(browser, base, system_mod.ADMIN, system_mod.PASSWORD)
        signins.append(seconds)
        ui.quiet(page)
        page.context.close()
    page, _ = ui.sign_in(browser, base, system_mod.ADMIN, system_mod.PASSWORD)
    ui.quiet(page)
    per_page: dict[str, list[float]] = {stem: [] for stem, _ in pages}
    order = pages[1:] + pages[:1]  # from the dashboard on: every page, back to the dashboard
    for _ in range(rounds):
        for stem, title in order:
            per_page[stem].append(ui.switch(page, stem, title))
            ui.quiet(page)
    ui.switch(page, "sql_editor", "SQL editor")
    ui.quiet(page)
    runs = []
    for i in range(rounds):
        ui.type_sql(page, f"SELECT 1 AS r{i}")
        ui.quiet(page)
        runs.append(ui.run_sql(page, f"r{i}"))
        ui.quiet(page)
    page.context.close()
    switches = [s for values in per_page.values() for s in values]
    slowest = max(per_page, key=lambda k: statistics.median(per_page[k]))
    return {
        "signin_to_figure_s": round(statistics.median(signins), 3),
        "signin_to_figure_all_s": [round(s, 3) for s in signins],
        "page_switch_s": summary(switches),
        "page_switch_p95_s": summary(switches)["p95"],
        "pages_s": {
            stem: {"first": round(v[0], 3), "p50": round(statistics.median(v), 3)}
            for stem, v in per_page.items()
        },
        "slowest_page": slowest,
        "sql_run_s": summary(runs),
    }


def _remote(browser: Any, base: str, proxies: tuple[FaultProxy, FaultProxy], repeats: int) -> dict:
    meta, target = proxies
    counts: dict[str, list[tuple[int, int]]] = {"signin": [], "to_dashboard": [], "sql_run": []}
    times: dict[str, list[float]] = {k: [] for k in counts}
    page = None
    for _ in range(repeats):
        if page is not None:
            page.context.close()
        with meta.counting() as m, target.counting() as tg:
            page, seconds = ui.sign_in(browser, base, system_mod.ADMIN, system_mod.PASSWORD)
            ui.quiet(page, proxies)
        counts["signin"].append((m.count, tg.count))
        times["signin"].append(seconds)
    assert page is not None
    for _ in range(repeats):
        ui.switch(page, "sql_editor", "SQL editor")
        ui.quiet(page, proxies)
        with meta.counting() as m, target.counting() as tg:
            times["to_dashboard"].append(ui.switch(page, "dashboard", "Dashboard"))
            ui.quiet(page, proxies)
        counts["to_dashboard"].append((m.count, tg.count))
    ui.switch(page, "sql_editor", "SQL editor")
    ui.quiet(page, proxies)
    for i in range(repeats):
        ui.type_sql(page, f"SELECT 1 AS r{i}")
        ui.quiet(page, proxies)
        with meta.counting() as m, target.counting() as tg:
            times["sql_run"].append(ui.run_sql(page, f"r{i}"))
            ui.quiet(page, proxies)
        counts["sql_run"].append((m.count, tg.count))
    pages = _page_trips(page, proxies)
    # What the links carry with nobody acting (the app's pollers, the jobs' sampling of the
    # remote connection): the noise a single count may hold.
    ui.switch(page, "users", EN_USERS)
    ui.quiet(page, proxies)
    with meta.counting() as m, target.counting() as tg:
        page.wait_for_timeout(IDLE_S * 1000)
    page.context.close()
    return {
        "idle_round_trips_per_s": [round(m.count / IDLE_S, 1), round(tg.count / IDLE_S, 1)],
        "pages_round_trips": pages,
        **{
            action: {
                "round_trips": {
                    "metadata": min(c[0] for c in seen),
                    "target": min(c[1] for c in seen),
                },
                "round_trips_seen": [list(c) for c in seen],
                "median_s": round(statistics.median(times[action]), 3),
            }
            for action, seen in counts.items()
        },
    }


def _page_trips(page: Any, proxies: tuple[FaultProxy, FaultProxy]) -> dict[str, list[float]]:
    """One pass over the sidebar: each switch's [metadata, target] round trips and seconds."""
    meta, target = proxies
    out: dict[str, list[float]] = {}
    pages = ui.sidebar_pages()
    for stem, title in pages[1:] + pages[:1]:
        with meta.counting() as m, target.counting() as tg:
            seconds = ui.switch(page, stem, title)
            ui.quiet(page, proxies)
        out[stem] = [m.count, tg.count, round(seconds, 3)]
    return out


def bare_streamlit(browser: Any, base: str, rounds: int) -> dict[str, Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    loads, switches = [], []
    for _ in range(max(1, rounds // 2)):
        loads.append(
            ui.timed(
                lambda: page.goto(base),
                lambda: page.locator(ui.in_main("[data-testid=stPlotlyChart]")).first.wait_for(
                    state="visible", timeout=ui.WAIT_MS
                ),
            )
        )
        ui.quiet(page)
    for _ in range(rounds):
        for title, sel in HELLO_PAGES:
            switches.append(_switch(page, title, sel))
            ui.quiet(page)
    context.close()
    return {
        "load_to_figure_s": round(statistics.median(loads), 3),
        "page_switch_s": summary(switches),
    }


def _raw_select(url: str, runs: int) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(3):
            conn.execute("SELECT 1").fetchall()
        return statistics.median(
            timed_ms(lambda: conn.execute("SELECT 1").fetchall())[0] for _ in range(runs)
        )


def main(quick: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    rounds = 2 if quick else 5
    repeats = 2 if quick else 3
    rtt = float(os.environ.get("PETCARE_BENCH_RTT_MS", "20"))
    with system_mod.demo_system() as sys_, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with system_mod.hello_app(sys_.root) as hello:
                base = bare_streamlit(browser, hello.url, rounds)
            with system_mod.app(sys_) as served:
                local = _local(browser, served.url, rounds)
            meta_proxy, meta_url = proxied(sys_.rt.admin_url, (rtt / 2, rtt / 2))
            target_proxy, target_url = proxied(sys_.demo_url, (rtt / 2, rtt / 2))
            try:
                connections.add(sys_.rt, sys_.admin, REMOTE, target_url, shared=True)
                raw_ms = _raw_select(target_url, 20)
                with system_mod.app(sys_, store_url=meta_url, name="app-remote") as served:
                    remote = _remote(browser, served.url, (meta_proxy, target_proxy), repeats)
            finally:
                meta_proxy.close()
                target_proxy.close()
        finally:
            browser.close()
    switch_p95 = local["page_switch_s"]["p95"]
    return {
        "signin_to_figure_s": local["signin_to_figure_s"],
        "signin_goal_s": 2.0,
        "page_switch_p95_s": switch_p95,
        "page_switch_goal_s": 1.0,
        "signin_vs_bare_streamlit_ratio": round(
            local["signin_to_figure_s"] / base["load_to_figure_s"], 2
        ),
        "page_switch_p95_vs_bare_ratio": round(switch_p95 / base["page_switch_s"]["p95"], 2),
        **{k: v for k, v in local.items() if k not in ("signin_to_figure_s", "page_switch_p95_s")},
        "bare_streamlit": base,
        "rounds": rounds,
        "remote": {
            "network_rtt_ms": rtt,
            **remote,
            "raw_select1_remote_ms": round(raw_ms, 3),
            "sql_run_vs_raw_ratio": round(remote["sql_run"]["median_s"] * 1000 / raw_ms, 1),
        },
        "workload": {
            "demo_workload_rate": sys_.rt.settings.demo_workload_rate,
            "demo_scale": sys_.rt.settings.demo_scale,
        },
        "machine": {**machine(), "loadavg": os.getloadavg()},
    }


def _switch(page: Any, title: str, sel: str) -> float:
    """Seconds from a click on the page `title` to `sel` visible in the main area."""
    return ui.timed(
        lambda: ui.click_page(page, title),
        lambda: page.locator(ui.in_main(sel)).first.wait_for(state="visible", timeout=ui.WAIT_MS),
    )
