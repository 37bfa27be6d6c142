"""The shutdown drain the app runs on SIGTERM, at the service level (fast, no processes).

`engine.drain` cancels a statement that is running (it ends audited 'cancelled'), waits for its
record, and refuses every run that would start afterwards.
"""

from __future__ import annotations

import threading
import time

import pytest

from petcare_dba.errors import Unavailable
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, events, target

__all__ = ["target"]  # fixture used by name
ACTIVE = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'petcare-dba/admin/%%' "
    "AND state = 'active' AND datname = current_database()"
)


def test_drain_cancels_the_running_statement_audits_it_and_refuses_new_runs(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    results: list[engine.RunResult] = []
    runner = threading.Thread(
        target=lambda: results.append(engine.run(rt, admin, target.name, "SELECT pg_sleep(60)"))
    )
    runner.start()
    deadline = time.monotonic() + 10
    while target.rows(ACTIVE)[0][0] != 1:
        assert time.monotonic() < deadline and runner.is_alive(), f"not started: {results}"
        time.sleep(0.05)
    started = time.monotonic()
    assert engine.drain(rt, 5.0) == 1
    assert time.monotonic() - started < 3  # cancelled, not waited out
    runner.join(5)
    assert results and results[0].error is not None
    assert results[0].error.sqlstate == "57014"
    assert [e.outcome for e in events(rt, admin)][-2:] == ["intent", "cancelled"]
    with pytest.raises(Unavailable, match="shutting down"):
        engine.run(rt, admin, target.name, "SELECT 1")
