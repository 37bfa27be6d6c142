"""Time partitions of the monitoring series (migration 0029) and the retention job that keeps them.

Rows land in their UTC day's partition; the job creates days ahead, moves whatever reached a
DEFAULT partition into its own day, and drops days past retention whole (a DELETE trigger on
every partition proves no row is deleted); a time-bounded dashboard query reads only the
partitions of its window; partitions are closed to the runtime role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from petcare_dba.db import queries
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import housekeeping
from petcare_dba.services.runtime import Runtime

RANGE_PARENTS = ("metric_samples_raw", "metric_samples_5m", "statement_deltas")


def _day(offset_days: int) -> str:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=offset_days)
    return day.strftime("%Y%m%d")


def _partitions(conn: psycopg.Connection[Any], parent: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        (f"petcare.{parent}",),
    ).fetchall()
    return {r[0] for r in rows}


def _add_connection(conn: psycopg.Connection[Any]) -> int:
    conn.execute(
        "INSERT INTO petcare.encryption_keys (version, wrapped_dek, kek_id) "
        "VALUES (99, '\\x00', 'k') ON CONFLICT DO NOTHING"
    )
    row = conn.execute(
        "INSERT INTO petcare.connections (name, display_url, secret_enc, key_version) "
        "VALUES ('part-test', 'postgresql://x', '\\x00', 99) RETURNING id"
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_rows_land_in_their_day_partition(meta_url: str) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, resolution_s, value) "
            "VALUES (NULL, 'a', now(), 0, 1), (NULL, 'a', now() + interval '1 day', 0, 2), "
            "(NULL, 'a', date_trunc('minute', now()), 300, 3)"
        )
        homes = conn.execute(
            "SELECT value, tableoid::regclass::text FROM petcare.metric_samples ORDER BY value"
        ).fetchall()
    assert homes == [
        (1.0, f"petcare.metric_samples_raw_p{_day(0)}"),
        (2.0, f"petcare.metric_samples_raw_p{_day(1)}"),
        (3.0, f"petcare.metric_samples_5m_p{_day(0)}"),
    ]


def test_retention_drops_whole_days_and_deletes_no_row(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn_id = _add_connection(conn)
        for parent, age in (
            ("metric_samples_raw", "3 days"),
            ("metric_samples_5m", "40 days"),
            ("statement_deltas", "40 days"),
        ):
            conn.execute(
                "SELECT petcare.partitions_ensure(%s::regclass, 'day', now() - %s::interval, "
                "now() - %s::interval, true)",
                (f"petcare.{parent}", age, age),
            )
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, resolution_s, value) "
            # From the start of the UTC day, so the rows stay in the day ensured above at any
            # hour (from now(), 100 five-minute rows crossed midnight after 15:40 UTC).
            "SELECT %s, 'm', date_trunc('day', now() - interval '3 days', 'UTC') "
            "+ i * interval '1 minute', 0, i FROM generate_series(0, 99) i UNION ALL "
            "SELECT %s, 'm', date_trunc('day', now() - interval '40 days', 'UTC') "
            "+ i * interval '5 minutes', 300, i FROM generate_series(0, 99) i",
            (conn_id, conn_id),
        )
        conn.execute(
            "INSERT INTO petcare.statement_deltas (connection_id, at, queryid, userid, calls, "
            "total_ms, rows, blks_hit, blks_read) "
            "SELECT %s, now() - interval '40 days', i, 10, 1, 1, 1, 0, 0 "
            "FROM generate_series(0, 99) i",
            (conn_id,),
        )
        old = {p: _partitions(conn, p) for p in RANGE_PARENTS}
        assert f"metric_samples_raw_p{_day(-3)}" in old["metric_samples_raw"]
        assert f"statement_deltas_p{_day(-40)}" in old["statement_deltas"]
        # Any DELETE of a sample or delta now fails: only dropping a partition removes rows.
        conn.execute(
            "CREATE FUNCTION public.no_delete() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'row deleted from %', TG_TABLE_NAME; END $$"
        )
        for parent in ("metric_samples", "statement_deltas"):
            conn.execute(
                f"CREATE TRIGGER no_delete BEFORE DELETE ON petcare.{parent} "
                "FOR EACH ROW EXECUTE FUNCTION public.no_delete()"
            )

    done = housekeeping.retention(rt)

    assert done["partitions_dropped"] == 3 and done["rows_moved"] == 0
    with psycopg.connect(meta_url, autocommit=True) as conn:
        now = {p: _partitions(conn, p) for p in RANGE_PARENTS}
        left = conn.execute(
            "SELECT (SELECT count(*) FROM petcare.metric_samples WHERE connection_id = %s), "
            "(SELECT count(*) FROM petcare.statement_deltas WHERE connection_id = %s), "
            "(SELECT count(*) FROM pg_class WHERE relname IN (%s, %s, %s))",
            (
                conn_id,
                conn_id,
                f"metric_samples_raw_p{_day(-3)}",
                f"metric_samples_5m_p{_day(-40)}",
                f"statement_deltas_p{_day(-40)}",
            ),
        ).fetchone()
    assert left == (0, 0, 0)
    assert old["metric_samples_raw"] - now["metric_samples_raw"] == {
        f"metric_samples_raw_p{_day(-3)}"
    }
    assert old["statement_deltas"] - now["statement_deltas"] == {f"statement_deltas_p{_day(-40)}"}


def test_rows_in_a_default_partition_are_moved_into_their_day(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, value) "
            "VALUES (NULL, 'far', now() + interval '10 days', 1), "
            "(NULL, 'far', now() + interval '10 days 1 minute', 2)"
        )
        assert conn.execute(
            "SELECT count(*) FROM petcare.metric_samples_raw_default"
        ).fetchone() == (2,)

    done = housekeeping.retention(rt)

    assert done["rows_moved"] == 2
    with psycopg.connect(meta_url, autocommit=True) as conn:
        homes = conn.execute(
            "SELECT DISTINCT tableoid::regclass::text FROM petcare.metric_samples "
            "WHERE metric = 'far'"
        ).fetchall()
        emptied = conn.execute("SELECT count(*) FROM petcare.metric_samples_raw_default").fetchone()
        secured = conn.execute(
            "SELECT relforcerowsecurity, has_table_privilege('petcare_app', oid, 'SELECT') "
            "FROM pg_class WHERE relname = %s",
            (f"metric_samples_raw_p{_day(10)}",),
        ).fetchone()
    assert homes == [(f"petcare.metric_samples_raw_p{_day(10)}",)]
    assert emptied == (0,)
    assert secured == (True, False)


def test_the_job_creates_days_ahead(rt: Runtime, admin: Actor, meta_url: str) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        for parent in RANGE_PARENTS:
            for name in _partitions(conn, parent):
                if name.rsplit("_p", 1)[-1] > _day(0) and not name.endswith("default"):
                    conn.execute(f"DROP TABLE petcare.{name}")
        assert f"statement_deltas_p{_day(1)}" not in _partitions(conn, "statement_deltas")

    done = housekeeping.retention(rt)

    assert done["partitions_created"] >= 3 * housekeeping.PARTITION_AHEAD_DAYS
    with psycopg.connect(meta_url, autocommit=True) as conn:
        for parent in RANGE_PARENTS:
            made = _partitions(conn, parent)
            for ahead in range(housekeeping.PARTITION_AHEAD_DAYS + 1):
                assert f"{parent}_p{_day(ahead)}" in made, (parent, ahead)


def test_a_time_bounded_dashboard_query_reads_only_its_days(meta_url: str) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "SELECT petcare.partitions_ensure('petcare.metric_samples_raw', 'day', "
            "now() - interval '5 days', now(), true)"
        )
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                ("EXPLAIN " + queries.get("mon_series")).encode(),
                {
                    "conn": None,
                    "metrics": ["host_cpu_pct"],
                    "resolution": 0,
                    "since": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                },
            ).fetchall()
        )
        raw = _partitions(conn, "metric_samples_raw")
        every = raw | _partitions(conn, "metric_samples_5m")
    read = {name for name in every if name in plan}
    expected = {f"metric_samples_raw_p{_day(d)}" for d in range(-1, 4)} & raw
    # the window (the last hour) can reach back into yesterday only just after midnight UTC
    assert f"metric_samples_raw_p{_day(0)}" in read
    assert read <= expected | {"metric_samples_raw_default"}
    assert f"metric_samples_raw_p{_day(-5)}" not in read and not any("5m" in n for n in read)


def test_partition_maintenance_is_for_admins_and_refuses_hostile_arguments(
    meta_url: str,
) -> None:
    call = "SELECT * FROM petcare.monitoring_partitions_maintain(%s::interval, %s::interval, %s)"
    with psycopg.connect(meta_url) as conn:
        admin_id = conn.execute(
            "INSERT INTO petcare.users (username, role) VALUES ('root2', 'admin') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        conn.commit()
        for user, args, error in (
            (None, ("48 hours", "30 days", 3), psycopg.errors.InsufficientPrivilege),
            (admin_id, ("0 hours", "30 days", 3), psycopg.errors.InvalidParameterValue),
            (admin_id, ("48 hours", "-1 days", 3), psycopg.errors.InvalidParameterValue),
            (admin_id, ("48 hours", "30 days", 100000), psycopg.errors.InvalidParameterValue),
        ):
            with pytest.raises(error), conn.transaction():
                conn.execute("SET LOCAL ROLE petcare_app")
                conn.execute("SELECT set_config('app.user_id', %s, true)", (str(user or ""),))
                conn.execute(call, args)
        for helper in ("partitions_drop_before(NULL, now())", "partition_secure(NULL)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("SET LOCAL ROLE petcare_app")
                conn.execute(f"SELECT petcare.{helper}".encode())
