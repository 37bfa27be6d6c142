"""Q10 in Chromium: a closed tab's target connections are gone within the disconnect timeout.

The app is served with server.disconnectedSessionTTL lowered to TTL_S. The tab runs a query
(its connection goes back to the pool, idle, for reuse), begins an explicit transaction on that
connection and updates a row in it (idle in transaction, holding a row lock), then closes. The
rollback alone would hand the connection back to the pool, idle; within TTL_S + the watcher's
poll + a margin pg_stat_activity on the target shows no backend named for the app's admin
sessions at all, the row is unchanged, and the audit log says the transaction was rolled back
because the tab was closed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql.transaction import TAB_CLOSED
from petcare_dba.ui.session_end import POLL_S
from tests.e2e.test_journey_editor import WAIT, sign_in_to_editor, type_sql
from tests.fix_browser import screenshot
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name

pytestmark = pytest.mark.browser
TTL_S = 3
MARGIN_S = 5  # a closing socket ends its backend a moment later; a loaded CI machine
BACKENDS = (
    "SELECT state FROM pg_stat_activity WHERE application_name LIKE 'petcare-dba/admin/%%' "
    "AND datname = current_database() ORDER BY state"
)


@pytest.fixture
def short_ttl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Streamlit forgets a disconnected session after TTL_S seconds (read by `live_app`)."""
    monkeypatch.setenv("STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL", str(TTL_S))
    yield


def test_a_closed_tab_releases_its_idle_and_transaction_connections(
    short_ttl: None, live_app: str, browser: Any, rt: Runtime, admin: Actor, target: Target
) -> None:
    page = sign_in_to_editor(browser, live_app)
    type_sql(page, "SELECT id, note FROM t ORDER BY id")
    page.get_by_text("Statement 1: SELECT 3").wait_for(timeout=WAIT)
    page.get_by_role("button", name="Begin transaction").click(timeout=WAIT)
    page.get_by_text("Transaction open: 0 statement(s)").wait_for(timeout=WAIT)
    type_sql(page, "UPDATE t SET note = 'held' WHERE id = 1")
    page.get_by_text("Transaction open: 1 statement(s)").wait_for(timeout=WAIT)
    screenshot(page, "tab-close-transaction-open")
    # The connection is there before the tab closes: the test would pass vacuously otherwise.
    assert target.rows(BACKENDS) == [("idle in transaction",)]

    page.context.close()
    closed = time.monotonic()
    while left := target.rows(BACKENDS):
        waited = time.monotonic() - closed
        assert waited < TTL_S + POLL_S + MARGIN_S, f"still there after {waited:.1f} s: {left}"
        time.sleep(0.2)
    print(f"released {time.monotonic() - closed:.1f} s after the tab closed (TTL {TTL_S} s)")
    assert target.table()[0] == (1, "one")

    deadline = time.monotonic() + 5
    while True:
        rows = [e for e in audit.recent(rt.store, admin) if e.action == "sql.transaction.rollback"]
        if [e.outcome for e in rows][:1] == ["ok"]:
            break
        assert time.monotonic() < deadline, "the rollback was not audited"
        time.sleep(0.2)
    assert rows[0].detail.get("reason") == TAB_CLOSED


def test_a_second_tab_of_the_same_sign_in_keeps_the_shared_idle_connection(
    short_ttl: None, live_app: str, browser: Any, rt: Runtime, admin: Actor, target: Target
) -> None:
    """Tabs of one sign-in share its application_name, so its idle connections too: closing one
    tab must not cut the other's; closing the last one releases them."""
    first = sign_in_to_editor(browser, live_app)
    type_sql(first, "SELECT id, note FROM t ORDER BY id")
    first.get_by_text("Statement 1: SELECT 3").wait_for(timeout=WAIT)
    second = first.context.new_page()  # the same browser: signed in through the cookie
    second.goto(live_app)
    second.get_by_role("link", name="SQL editor").click(timeout=WAIT)
    second.get_by_role("heading", name="SQL editor").wait_for(timeout=WAIT)
    assert target.rows(BACKENDS) == [("idle",)]

    first.close()
    time.sleep(TTL_S + POLL_S + MARGIN_S)  # everything the first tab's end would do, done
    assert target.rows(BACKENDS) == [("idle",)], "the live tab's idle connection was closed"
    type_sql(second, "SELECT count(*) AS n FROM t")  # reuses it
    second.get_by_text("Statement 1: SELECT 1").wait_for(timeout=WAIT)

    second.context.close()
    closed = time.monotonic()
    while left := target.rows(BACKENDS):
        waited = time.monotonic() - closed
        assert waited < TTL_S + POLL_S + MARGIN_S, f"still there after {waited:.1f} s: {left}"
        time.sleep(0.2)
