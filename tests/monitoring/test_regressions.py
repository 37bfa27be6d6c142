"""Query-regression alerts on a real server with pg_stat_statements (issue 20, part 3).

The done-when test: a regression alert fires after an index the statement used is dropped, and
resolves when it is restored. Sampling is driven directly (`collector.sample_connection`, forced)
and time is moved by ageing the stored statement deltas between phases (the windows are minutes;
the test does not wait for them). The embedded PostgreSQL 18 preloads pg_stat_statements; a
server that does not (the shared PostgreSQL 15 at 127.0.0.1:5432 does not) cannot show the
statement counters at all: the test then says so and skips, and fails instead under
PETCARE_REQUIRE_DB=1 when that server is the default (embedded) one.
"""

from __future__ import annotations

import os

import psycopg
import pytest

from petcare_dba.services import alerts
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector, regressions
from petcare_dba.services.runtime import Runtime
from tests.fix_monitoring import Target, has_pg_stat_statements, target_db
from tests.monitoring.test_collector import _round

__all__ = ["target_db"]
STATEMENT = "SELECT count(*), max(pad) FROM reg_orders WHERE customer = %s"


def require_pg_stat_statements(url: str) -> None:
    """Skip (saying why) when the server does not preload pg_stat_statements; fail instead on
    the default embedded server under PETCARE_REQUIRE_DB=1, where it must be there."""
    if has_pg_stat_statements(url):
        return
    reason = (
        "pg_stat_statements is not in shared_preload_libraries on this server, so it keeps "
        "no statement counters and no regression can be seen"
    )
    default = not os.environ.get("PETCARE_TEST_DATABASE_URL")
    if os.environ.get("PETCARE_REQUIRE_DB") == "1" and default:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _calls(target: Target, n: int) -> None:
    """The statement n times with a bound parameter (pg_stat_statements shows it as $1)."""
    with psycopg.connect(target.url, autocommit=True) as conn:
        for i in range(n):
            conn.execute(STATEMENT, (i % 5000,))


def _age(meta_url: str, minutes: int) -> None:
    """Move the stored deltas back in time (the recent window becomes the baseline)."""
    with psycopg.connect(meta_url) as conn:
        conn.execute(
            "UPDATE petcare.statement_deltas SET at = at - make_interval(mins => %s)", (minutes,)
        )


@pytest.mark.slow
def test_a_regression_alert_fires_after_an_index_the_statement_used_is_dropped_and_resolves_when_it_is_restored(  # noqa: E501
    rt: Runtime, admin: Actor, target_db: Target, meta_url: str
) -> None:
    require_pg_stat_statements(target_db.url)
    rt.settings = rt.settings.with_overrides(
        regression_min_mean_ms=0.5, regression_min_calls=20, regression_ratio=2.0
    )
    target_db.execute(
        "CREATE EXTENSION pg_stat_statements",
        "CREATE TABLE reg_orders AS SELECT g AS id, g % 5000 AS customer, "
        "repeat('x', 40) AS pad FROM generate_series(1, 50000) g",
        "CREATE INDEX reg_orders_customer ON reg_orders (customer)",
        "ANALYZE reg_orders",
    )
    reset_before = target_db.value("SELECT stats_reset FROM pg_stat_statements_info")
    _calls(target_db, 1)  # in the first snapshot, so the next round has a delta for it
    assert _round(rt, admin, target_db).sampled
    _calls(target_db, 60)  # with the index
    assert _round(rt, admin, target_db).statements >= 1
    _age(meta_url, 30)  # that round is now the baseline (recent window: 15 minutes)

    target_db.execute("DROP INDEX reg_orders_customer")
    _calls(target_db, 60)
    fired = _round(rt, admin, target_db)
    assert "query-regression" in fired.alerts, fired
    (reg,) = regressions.regressions(rt, admin, "tgt")
    assert reg.state == "firing" and "reg_orders" in reg.query and "$1" in reg.query
    assert reg.before_calls == 60 and reg.after_calls == 60
    assert reg.after_mean_ms >= 2 * reg.before_mean_ms and reg.after_mean_ms >= 0.5
    assert reg.plan is not None and "Seq Scan on reg_orders" in reg.plan, reg.plan_note
    assert "generic plan" in reg.plan_note
    (event,) = [e for e in alerts.history(rt, admin) if e.rule == "query-regression"]
    assert event.state == "firing" and "reg_orders" in event.message

    again = _round(rt, admin, target_db)  # no new calls: no verdict, still one firing event
    assert "query-regression" not in again.alerts
    assert [r.state for r in regressions.regressions(rt, admin, "tgt")] == ["firing"]

    target_db.execute("CREATE INDEX reg_orders_customer ON reg_orders (customer)")
    _age(meta_url, 30)  # the slow calls leave the recent window
    _calls(target_db, 60)
    resolved = _round(rt, admin, target_db)
    assert "query-regression" in resolved.alerts, resolved
    (reg,) = regressions.regressions(rt, admin, "tgt")
    assert reg.state == "resolved" and reg.resolved_at is not None
    # never reset by us: the view's reset time did not move and the entries are still there
    assert target_db.value("SELECT stats_reset FROM pg_stat_statements_info") == reset_before
    assert target_db.value("SELECT count(*) FROM pg_stat_statements") > 0


def test_collector_round_without_pg_stat_statements_raises_no_regression(
    rt: Runtime, admin: Actor, target_db: Target
) -> None:
    """No extension in the target database: the round samples and no regression appears."""
    first = _round(rt, admin, target_db)
    assert first.sampled and "query-regression" not in first.alerts
    assert regressions.regressions(rt, admin, "tgt") == []
    assert isinstance(collector.INSTANCE, str)
