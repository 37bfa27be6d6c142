"""What a page reads on its first paint (issue 19, fast pages), counted on the wire.

The target is reached through a counting `FaultProxy` (tests/fix_faults.py, as in
tests/sql/test_round_trips.py and `bench ui`): a page's first paint costs exactly the round trips
of the service call its visible part needs. Monitoring draws the open tab only (its other tabs'
reads cost nothing until one is chosen); Advisor shows the stored run and runs its lints only on
the Run click; Explorer's first paint reads the catalog once and then serves it from the cache.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import advisor, connections, monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n, state
from tests.faults.fix_matrix import proxied
from tests.fix_db import ADMIN_PASSWORD, PgServer
from tests.fix_faults import FaultProxy, fault_proxy
from tests.fix_ui import sign_in

__all__ = ["fault_proxy"]  # fixture used by name
TABS = ("activity", "queries", "regressions", "space", "maintenance")


@dataclass
class Proxied:
    proxy: FaultProxy
    url: str  # straight to the server, for the test's own setup


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background sampling: the only target traffic is the page's own."""
    monkeypatch.setenv("PETCARE_MONITORING_ENABLED", "false")
    monkeypatch.setenv("PETCARE_ADVISOR_INTERVAL_MINUTES", "0")


@pytest.fixture
def counted(
    quiet: None,
    pg: PgServer,
    rt: Runtime,
    admin: Actor,
    fault_proxy: Callable[..., FaultProxy],
) -> Iterator[Proxied]:
    """A fresh target registered (shared) as `tgt` through a counting proxy."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    parts = urlsplit(url)
    # A few ms each way, so that what one pipeline writes is one turn (tests/sql/test_round_trips).
    proxy = fault_proxy(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=(4.0, 4.0))
    connections.add(rt, admin, "tgt", proxied(proxy, url), shared=True)
    yield Proxied(proxy, url)
    pg.drop_database(dbname)


def _go(at: AppTest, **chosen: object) -> AppTest:
    """Rerun with the connection (and any other state) chosen, as the sidebar would keep it."""
    at.session_state["connection"] = "tgt"
    for key, value in chosen.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _trips(proxy: FaultProxy, action: Callable[[], object]) -> int:
    """The target round trips of `action`, with its sessions' closing messages (they go out
    as the connection closes, after the call returned)."""
    with proxy.counting() as turns:
        action()
        seen = -1
        while seen != proxy.round_trips:
            seen = proxy.round_trips
            time.sleep(0.2)
    return turns.count


def test_monitoring_first_paint_reads_only_the_open_tab(
    app: Callable[[], AppTest], admin: Actor, counted: Proxied
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/monitoring.py")
    _go(at)
    app_rt = state.runtime()  # the app's own runtime (AppTest runs in this process)
    label = {tab: i18n.translate("en", f"monitoring.tab.{tab}") for tab in TABS}
    # Each tab's reads alone, straight from the service, on the app's runtime.
    alone = {
        "activity": _trips(counted.proxy, lambda: monitoring.sessions(app_rt, admin, "tgt")),
        "space": _trips(counted.proxy, lambda: monitoring.space(app_rt, admin, "tgt")),
        "maintenance": _trips(counted.proxy, lambda: monitoring.maintenance(app_rt, admin, "tgt")),
    }
    assert all(n > 0 for n in alone.values()), alone  # the proxy sees every target read
    for tab in ("activity", "space", "maintenance", "activity"):
        page = _trips(counted.proxy, functools.partial(_go, at, mon_tab=label[tab]))
        # One turn either way: a pipelined batch counts as two when the server answers its
        # first query before the client flushed the next (a loaded machine). A second tab's
        # reads would add 8 or more.
        assert abs(page - alone[tab]) <= 1, (tab, page, alone)
    # Queries and regressions read the store only: not one target round trip.
    for tab in ("queries", "regressions"):
        assert _trips(counted.proxy, functools.partial(_go, at, mon_tab=label[tab])) == 0
    assert at.session_state["mon_tab"] == label["regressions"]


def test_monitoring_keeps_the_open_tab_across_pages_and_languages(
    app: Callable[[], AppTest], counted: Proxied
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/monitoring.py")
    _go(at, mon_tab=i18n.translate("en", "monitoring.tab.space"))
    assert at.get("plotly_chart")  # the space treemap, not the sessions grid's blocking caption
    at.switch_page("pages/users.py")
    _go(at)
    at.switch_page("pages/monitoring.py")
    _go(at, lang="pt-BR")
    assert at.session_state["mon_tab"] == i18n.translate("pt-BR", "monitoring.tab.space")
    assert at.metric[0].label == i18n.translate("pt-BR", "monitoring.growth")


def test_advisor_first_paint_shows_the_stored_run_and_runs_the_lints_only_on_click(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, counted: Proxied
) -> None:
    with psycopg.connect(counted.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE np (x int)")  # a finding: a table without a primary key
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/advisor.py")
    assert _trips(counted.proxy, lambda: _go(at)) == 0  # no stored run: nothing ran either
    assert i18n.translate("en", "advisor.no_run_yet") in [i.value for i in at.info]
    assert advisor.history(rt, admin, "tgt") == []
    # The Run click is what runs the lints against the target, and the run is stored.
    at.session_state["connection"] = "tgt"
    assert _trips(counted.proxy, lambda: at.button(key="adv_run").click().run()) > 0
    assert len(advisor.history(rt, admin, "tgt")) == 1
    # A later first paint shows that stored run without touching the target.
    at.switch_page("pages/users.py")
    _go(at)
    at.switch_page("pages/advisor.py")
    assert _trips(counted.proxy, lambda: _go(at)) == 0
    assert at.multiselect(key="adv_levels")
    # Findings are listed closed, their bodies (doc, fix, buttons) drawn once opened.
    assert at.expander and not [b for b in at.button if str(b.key).startswith("adv_edit_")]
    assert _trips(counted.proxy, lambda: _go(at, adv_open_0=True)) == 0
    assert [b.key for b in at.button if str(b.key).startswith("adv_edit_")] == ["adv_edit_0"]
    assert at.expander[-1].label == i18n.translate("en", "advisor.history")
    assert len(at.dataframe[-1].value) == 1  # the runs table: the one stored run
    assert i18n.translate("en", "advisor.no_run_yet") not in [i.value for i in at.info]


def test_explorer_reads_the_catalog_once_and_draws_closed_parts_only_when_opened(
    app: Callable[[], AppTest], counted: Proxied
) -> None:
    with psycopg.connect(counted.url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE owners (id int PRIMARY KEY); CREATE FUNCTION f() RETURNS int RETURN 1"
        )
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/explorer.py")
    assert _trips(counted.proxy, lambda: _go(at)) > 0  # the one constant-cost catalog read
    assert "owners" in list(at.dataframe[0].value["Name"])
    assert len(at.dataframe) == 1  # functions and extensions wait in their closed expander
    at.switch_page("pages/users.py")
    _go(at)
    at.switch_page("pages/explorer.py")
    assert _trips(counted.proxy, lambda: _go(at)) == 0  # the catalog comes from the cache
    assert "owners" in list(at.dataframe[0].value["Name"])
    assert _trips(counted.proxy, lambda: _go(at, explorer_objects=True)) == 0
    assert len(at.dataframe) == 3  # relations, then the opened functions and extensions
