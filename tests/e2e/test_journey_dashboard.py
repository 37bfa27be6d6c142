"""Browser journey: the dashboard under pgbench load, an injected blocking lock that alerts
through a webhook within two sampling intervals and resolves after, the alerts and monitoring
pages. Screenshots land in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.db import embedded
from petcare_dba.services import alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import screenshot, visible_count
from tests.fix_db import ADMIN_PASSWORD, PgServer
from tests.fix_monitoring import Holder, WebhookReceiver, webhook

__all__ = ["webhook"]
pytestmark = pytest.mark.browser
INTERVAL = 2
LOCK_S = 1


@pytest.fixture
def test_settings(test_settings: settings_mod.Settings) -> settings_mod.Settings:
    """Sample every two seconds; no scheduled advisor runs competing for the two cores."""
    return test_settings.with_overrides(
        monitoring_interval_s=INTERVAL, advisor_interval_minutes=0, monitoring_long_query_s=5
    )


def pgbench_path(major: int) -> str:
    """pgbench matching the server: the embedded one, or the system's for that major."""
    system = Path(f"/usr/lib/postgresql/{major}/bin/pgbench")
    if system.exists():
        return str(system)
    bundled = embedded.bin_dir() / "pgbench"
    if bundled.exists():
        return str(bundled)
    return shutil.which("pgbench") or "pgbench"


@pytest.fixture
def bench_db(pg: PgServer) -> Iterator[str]:
    """A target database initialised by pgbench (scale 1)."""
    name = pg.create_database()
    url = pg.admin_url(name)
    subprocess.run(
        [pgbench_path(pg.major), "-i", "-s", "1", "-q", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield url
    pg.drop_database(name)


def test_dashboard_under_load_and_an_injected_lock_alerts_and_resolves(
    live_app: str,
    browser,
    rt: Runtime,
    admin: Actor,
    pg: PgServer,
    bench_db: str,
    webhook: WebhookReceiver,
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "bench", bench_db, shared=True)
    channels.add_webhook(rt, admin, "ops", webhook.url)
    # pgbench's own row-lock waits last milliseconds; a wait over one second is the injected one.
    alerts.update_rule(rt, admin, "blocked-queries", threshold=LOCK_S)
    # The background jobs run as `up` runs them (a bare Streamlit server serves the pages here).
    jobs.start(rt, lease_s=2.0)
    load = subprocess.Popen(
        [pgbench_path(pg.major), "-n", "-c", "4", "-T", "120", bench_db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 2300})
    page = context.new_page()
    blocker = waiter = None
    try:
        page.goto(live_app)
        page.get_by_label("Username").fill("admin")
        page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Health by area").wait_for(timeout=30000)
        # Three sampling rounds: rates need two, the charts a few points.
        page.get_by_text("Connections used").first.wait_for(timeout=30000)
        time.sleep(4 * INTERVAL)
        page.get_by_text("OK — ").first.wait_for(timeout=30000)
        # Eight charts on screen, none doubled.
        assert visible_count(page, "[data-testid=stPlotlyChart]") == 8
        screenshot(page, "journey-dashboard-under-load")

        subprocess.run(
            ["psql", bench_db, "-qc", "CREATE TABLE hold (id int)"], check=True, capture_output=True
        )
        blocker = Holder(bench_db, "BEGIN", "LOCK TABLE hold IN ACCESS EXCLUSIVE MODE")
        waiter = Holder(bench_db)
        injected = time.monotonic()
        waiter.run_in_background("SELECT * FROM hold")
        fired = webhook.wait_for(6 * INTERVAL, event="firing", rule="blocked-queries")
        assert fired is not None, "the lock raised no alert"
        # detectable once the wait passes LOCK_S; then within two sampling intervals (+ round time)
        assert time.monotonic() - injected <= LOCK_S + 2 * INTERVAL + 2, "slower than 2 intervals"
        assert fired["connection"] == "bench"

        page.get_by_role("link", name="Alerts").click()
        page.locator("strong", has_text="blocked-queries").first.wait_for(timeout=20000)
        screenshot(page, "journey-alert-firing")
        page.get_by_role("link", name="Monitoring").click()
        page.get_by_text("blockers first").wait_for(timeout=20000)
        page.get_by_role("button", name="Terminate session").wait_for(timeout=20000)
        screenshot(page, "journey-monitoring-blocking-tree")

        blocker.conn.execute("COMMIT")
        released = time.monotonic()
        resolved = webhook.wait_for(6 * INTERVAL, event="resolved", rule="blocked-queries")
        assert resolved is not None and resolved["event_id"] == fired["event_id"]
        assert time.monotonic() - released <= 2 * INTERVAL + 2
    finally:
        for holder in (waiter, blocker):
            if holder is not None:
                holder.close()
        load.terminate()
        load.wait(timeout=30)
        context.close()
        jobs.stop(rt, timeout=10)
    assert [
        (e.rule, e.state)
        for e in alerts.history(rt, admin, connection="bench")
        if e.rule == "blocked-queries"
    ] == [("blocked-queries", "resolved")]
