"""The collector on a real server: gauges, rates, statement deltas, resets, leaders, storage."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector, housekeeping
from petcare_dba.services.monitoring import deltas as collector_deltas
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer
from tests.fix_monitoring import (
    Target,
    has_pg_stat_statements,
    monitoring_cli,
    target_db,
)

__all__ = ["monitoring_cli", "target_db"]


def _conn_id(rt: Runtime, admin: Actor, name: str) -> int:
    return connections.get(rt, admin, name).id


def _round(rt: Runtime, admin: Actor, target: Target) -> collector.Round:
    actor = collector.system_actor(rt)
    return collector.sample_connection(
        rt, actor, _conn_id(rt, admin, target.name), target.name, force=True
    )


def _samples(meta_url: str, metric: str) -> list[float]:
    with psycopg.connect(meta_url) as conn:
        rows = conn.execute(
            "SELECT value FROM petcare.metric_samples WHERE metric = %s AND resolution_s = 0 "
            "ORDER BY at",
            (metric,),
        ).fetchall()
    return [r[0] for r in rows]


def test_first_round_stores_gauges_and_the_second_adds_rates(
    rt: Runtime, admin: Actor, target_db: Target, meta_url: str
) -> None:
    first = _round(rt, admin, target_db)
    assert first.sampled and first.error is None
    assert first.metrics["up"] == 1.0
    assert first.metrics["database_bytes"] > 0
    assert 0 < first.metrics["connection_usage_pct"] <= 100
    assert "tps" not in first.metrics  # no baseline yet: no rate
    target_db.execute("CREATE TABLE t (id int)", "INSERT INTO t SELECT generate_series(1, 500)")
    second = _round(rt, admin, target_db)
    assert second.metrics["tps"] > 0
    assert second.metrics["tuples_inserted_per_s"] > 0
    assert 0 <= second.metrics["cache_hit_pct"] <= 100
    assert "checkpoints_timed" in second.metrics and "wal_bytes_per_s" in second.metrics
    assert _samples(meta_url, "database_bytes") and _samples(meta_url, "tps")


def test_a_statistics_reset_rebaselines_instead_of_storing_negative_rates(
    rt: Runtime, admin: Actor, target_db: Target, meta_url: str
) -> None:
    target_db.execute("CREATE TABLE t (id int)", "INSERT INTO t SELECT generate_series(1, 5000)")
    _round(rt, admin, target_db)
    target_db.execute("SELECT pg_stat_reset()")
    after_reset = _round(rt, admin, target_db)
    assert "db" in after_reset.reset_groups
    assert "tps" not in after_reset.metrics
    target_db.execute("INSERT INTO t SELECT generate_series(1, 10)")
    normal = _round(rt, admin, target_db)
    assert normal.metrics["tps"] > 0 and not normal.reset_groups
    assert all(v >= 0 for v in _samples(meta_url, "tps"))
    assert all(v >= 0 for v in _samples(meta_url, "tuples_inserted_per_s"))


def test_a_server_restart_is_detected_from_the_postmaster_start_time(
    rt: Runtime, admin: Actor, target_db: Target, meta_url: str
) -> None:
    _round(rt, admin, target_db)
    # Pretend the server started at another time than it did (a real restart would disturb the
    # other tests sharing this server): the collector must re-baseline every counter group.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.collector_state SET server_started_at = server_started_at - "
            "interval '1 day'"
        )
    restarted = _round(rt, admin, target_db)
    assert "restart" in restarted.reset_groups
    assert "tps" not in restarted.metrics and restarted.statements == 0
    assert "tps" in _round(rt, admin, target_db).metrics


def test_pg_stat_statements_deltas_survive_a_reset_of_the_view(
    rt: Runtime, admin: Actor, target_db: Target, meta_url: str, pg: PgServer
) -> None:
    if not has_pg_stat_statements(target_db.url):
        first = _round(rt, admin, target_db)
        assert first.sampled and first.statements == 0
        with psycopg.connect(meta_url) as conn:
            row = conn.execute(
                "SELECT statements_available FROM petcare.collector_state"
            ).fetchone()
        assert row == (False,), "without the preload the collector reports statements unavailable"
        return
    target_db.execute("CREATE EXTENSION pg_stat_statements", "CREATE TABLE t (id int)")
    _round(rt, admin, target_db)
    for _ in range(7):
        target_db.execute("SELECT count(*) FROM t WHERE id > 3")
    second = _round(rt, admin, target_db)
    assert second.statements >= 1
    with psycopg.connect(meta_url) as conn:
        calls = conn.execute(
            "SELECT d.calls FROM petcare.statement_deltas d JOIN petcare.statement_snapshots s "
            "USING (connection_id, queryid, userid) WHERE s.query LIKE 'SELECT count(*) FROM t%%'"
        ).fetchall()
    assert calls == [(7,)]
    target_db.execute("SELECT pg_stat_statements_reset()")
    for _ in range(2):
        target_db.execute("SELECT count(*) FROM t WHERE id > 3")
    _round(rt, admin, target_db)
    with psycopg.connect(meta_url) as conn:
        calls = conn.execute(
            "SELECT d.calls FROM petcare.statement_deltas d JOIN petcare.statement_snapshots s "
            "USING (connection_id, queryid, userid) WHERE s.query LIKE 'SELECT count(*) FROM t%%' "
            "ORDER BY d.at"
        ).fetchall()
        negative = conn.execute(
            "SELECT count(*) FROM petcare.statement_deltas WHERE calls < 0 OR total_ms < 0"
        ).fetchone()
    assert calls == [(7,), (2,)]
    assert negative == (0,)
    assert target_db.value("SELECT count(*) FROM pg_stat_statements") > 0  # never reset by us


def test_only_one_instance_samples_a_connection_per_round(
    rt: Runtime, admin: Actor, target_db: Target, test_settings
) -> None:  # type: ignore[no-untyped-def]
    other = Runtime.start(test_settings)
    try:
        conn_id = _conn_id(rt, admin, target_db.name)
        barrier = threading.Barrier(2)
        results: list[collector.Round] = []

        def sample(runtime: Runtime) -> None:
            actor = collector.system_actor(runtime)
            barrier.wait()
            results.append(collector.sample_connection(runtime, actor, conn_id, target_db.name))

        threads = [threading.Thread(target=sample, args=(r,)) for r in (rt, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(r.sampled for r in results) == [False, True]
        assert {r.skipped for r in results if not r.sampled} <= {
            "another instance is sampling",
            "sampled recently",
        }
    finally:
        other.close()


def test_app_round_records_own_metrics_and_host_resources(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    metrics = collector.app_round(rt, collector.system_actor(rt), force=True)
    assert metrics is not None
    assert 0 <= metrics["host_cpu_pct"] <= 100 and 0 < metrics["host_disk_pct"] <= 100
    assert metrics["app_projects_total"] == 0
    assert "app_failed_logins_5m" in metrics and "app_active_users" in metrics
    assert collector.app_round(rt, collector.system_actor(rt)) is None  # sampled recently


def test_old_samples_are_rolled_up_then_expire(rt: Runtime, admin: Actor, meta_url: str) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, value) "
            "SELECT NULL, 'x', date_trunc('hour', now()) - interval '2 hours' + i * interval "
            "'1 minute', i FROM generate_series(0, 9) i"
        )
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, value) "
            "VALUES (NULL, 'x', now() - interval '100 days', 1)"
        )
    done = housekeeping.retention(rt)  # the retention job (rollups moved out of the round)
    # the 100-day-old sample reached the default partition: moved into its day, which is dropped.
    # In the first hours after midnight UTC the 2-hour-old samples fall on yesterday, which has no
    # partition in a store migrated today: they are moved too.
    assert done["rows_moved"] >= 1 and done["partitions_dropped"] >= 1
    with psycopg.connect(meta_url) as conn:
        rolled = conn.execute(
            "SELECT value, max_value FROM petcare.metric_samples WHERE metric = 'x' "
            "AND resolution_s = 300 ORDER BY at"
        ).fetchall()
        ancient = conn.execute(
            "SELECT count(*) FROM petcare.metric_samples WHERE at < now() - interval '90 days'"
        ).fetchone()
    assert rolled == [(2.0, 4.0), (7.0, 9.0)]
    assert ancient == (0,)


def test_an_unreachable_connection_is_recorded_as_down(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    connections.add(rt, admin, "gone", "postgresql://nobody@127.0.0.1:1/none", shared=True)
    result = collector.sample_connection(
        rt, collector.system_actor(rt), _conn_id(rt, admin, "gone"), "gone", force=True
    )
    assert not result.sampled and result.error
    assert _samples(meta_url, "up") == [0.0]


def test_users_read_metrics_only_of_connections_they_can_use(
    rt: Runtime, admin: Actor, pg: PgServer, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.services import monitoring

    dbname = pg.create_database()
    try:
        connections.add(rt, admin, "private", pg.admin_url(dbname), shared=False)
        _round(rt, admin, Target("private", dbname, pg.admin_url(dbname)))
        vera = make_user("vera", "viewer")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        assert monitoring.series(rt, admin, "private", ["up"], since)["up"]
        with pytest.raises(Exception, match="private"):
            monitoring.series(rt, vera, "private", ["up"], since)
        with psycopg.connect(meta_url) as conn, conn.transaction():
            conn.execute("SET LOCAL ROLE petcare_app")
            conn.execute("SELECT set_config('app.user_id', %s, true)", (str(vera.user_id),))
            seen = conn.execute("SELECT count(*) FROM petcare.metric_samples").fetchone()
        assert seen == (0,)
    finally:
        pg.drop_database(dbname)


def test_rates_never_go_negative_when_counters_shrink() -> None:
    before = {"db": {c: 100.0 for c in collector_deltas.GROUPS["db"][1]} | {"reset": None}}
    after = {"db": {c: 50.0 for c in collector_deltas.GROUPS["db"][1]} | {"reset": None}}
    result = collector_deltas.rates(before, after, 10.0, restarted=False, max_elapsed_s=600)
    assert result.metrics == {} and result.reset_groups == ("db",)
    far = collector_deltas.rates(before, before, 10_000.0, restarted=False, max_elapsed_s=600)
    assert far.metrics == {}


def test_statement_deltas_treat_a_shrunk_entry_as_new_since_the_last_look() -> None:
    previous = {
        (1, 10): {
            "calls": 10,
            "total_ms": 5.0,
            "rows": 10,
            "blks_hit": 1,
            "blks_read": 0,
            "age_s": 15.0,
        }
    }
    current = [
        {
            "queryid": 1,
            "userid": 10,
            "calls": 3,
            "total_ms": 1.0,
            "rows": 3,
            "blks_hit": 1,
            "blks_read": 0,
        },
        {
            "queryid": 2,
            "userid": 10,
            "calls": 99,
            "total_ms": 9.0,
            "rows": 1,
            "blks_hit": 0,
            "blks_read": 0,
        },
    ]
    deltas = collector_deltas.statement_deltas(previous, current, reset_changed=False, max_age_s=60)
    assert deltas == [
        {
            "queryid": 1,
            "userid": 10,
            "calls": 3,
            "total_ms": 1.0,
            "rows": 3,
            "blks_hit": 1,
            "blks_read": 0,
        }
    ]


def test_collect_once_from_the_command_line(monitoring_cli, target_db: Target) -> None:  # type: ignore[no-untyped-def]
    import json

    result = monitoring_cli("collect", "--once", "--force", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["connection"], r["sampled"]) for r in rows] == [("tgt", True)]
