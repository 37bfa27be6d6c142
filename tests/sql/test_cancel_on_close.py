"""Q10: closing the browser tab cancels the session's running statement.

The app is served with server.disconnectedSessionTTL lowered to 3 s; a 60 s statement runs,
the tab closes, and within TTL + 5 s its backend is gone from pg_stat_activity (the editor's
session watcher cancels statements of sessions Streamlit has forgotten).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.e2e.test_journey_editor import sign_in_to_editor, type_sql
from tests.fix_engine import Target, events, target

__all__ = ["target"]  # fixture used by name

pytestmark = pytest.mark.browser
TTL_S = 3
ACTIVE = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'petcare-dba/admin/%%' "
    "AND state = 'active' AND query LIKE 'FETCH%%' AND datname = current_database()"
)


@pytest.fixture
def short_ttl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Streamlit forgets a disconnected session after TTL_S seconds (read by `live_app`)."""
    monkeypatch.setenv("STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL", str(TTL_S))
    yield


def test_closing_the_tab_cancels_the_running_statement(
    short_ttl: None, live_app: str, browser: Any, rt: Runtime, admin: Actor, target: Target
) -> None:
    page = sign_in_to_editor(browser, live_app)
    type_sql(page, "SELECT pg_sleep(60)")
    page.get_by_role("button", name="Cancel").wait_for(timeout=30000)
    deadline = time.monotonic() + 10
    while target.rows(ACTIVE)[0][0] != 1:
        assert time.monotonic() < deadline, "the statement did not start"
        time.sleep(0.2)
    page.context.close()
    closed = time.monotonic()
    while target.rows(ACTIVE)[0][0] != 0:
        assert time.monotonic() - closed < TTL_S + 5, "still running after TTL + 5 s"
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while events(rt, admin)[-1].outcome != "cancelled":
        assert time.monotonic() < deadline, "the audit log does not say cancelled"
        time.sleep(0.2)
