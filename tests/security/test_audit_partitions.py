"""The audit log partitioned by month (migration 0030): one chain across partitions, append-only
on every partition, months made ahead by the retention job and never dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import housekeeping
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit


def _month(offset: int) -> str:
    today = dt.datetime.now(dt.UTC).date()
    index = today.year * 12 + today.month - 1 + offset
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def _partitions(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'petcare.audit_log'::regclass ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _write_across_months(conn: psycopg.Connection[Any]) -> None:
    """Rows in three months, the month boundary crossed out of time order (chain order wins)."""
    conn.execute(
        "SELECT petcare.partitions_ensure('petcare.audit_log', 'month', "
        "now() - interval '14 months', now(), false)"
    )
    conn.execute(
        "INSERT INTO petcare.audit_log (chain_seq, action, outcome, prev_hash, row_hash, at) "
        "SELECT 0, 'test', 'ok', '', '', v.at FROM (VALUES "
        "(1, now() - interval '14 months'), "
        "(2, date_trunc('month', now()) + interval '1 millisecond'), "
        "(3, date_trunc('month', now()) - interval '1 millisecond'), "
        "(4, now())) v(n, at) ORDER BY v.n"
    )


def test_the_chain_verifies_across_month_partitions_and_tampering_is_found(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        _write_across_months(conn)
        homes = conn.execute(
            "SELECT chain_seq, tableoid::regclass::text FROM petcare.audit_log "
            "WHERE action = 'test' ORDER BY chain_seq"
        ).fetchall()
    assert [h[1] for h in homes] == [
        f"petcare.audit_log_p{_month(-14)}",
        f"petcare.audit_log_p{_month(0)}",
        f"petcare.audit_log_p{_month(-1)}",
        f"petcare.audit_log_p{_month(0)}",
    ]
    status = audit.verify(rt.store, admin)
    assert status.ok and status.checked >= 4

    # A superuser with triggers off edits a row of last month's partition: the verifier finds it.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            f"UPDATE petcare.audit_log_p{_month(-1)} SET detail = '{{\"x\": 1}}' "
            "WHERE chain_seq = %s",
            (homes[2][0],),
        )
    status = audit.verify(rt.store, admin)
    assert not status.ok and status.first_broken_seq == homes[2][0]
    assert status.reason == "row altered"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {} SET detail = '{{}}'",
        "DELETE FROM {}",
        "TRUNCATE {}",
    ],
)
def test_every_partition_is_append_only(
    rt: Runtime, admin: Actor, meta_url: str, statement: str
) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        _write_across_months(conn)
        parts = _partitions(conn)
    assert len(parts) >= 5 and "audit_log_default" in parts
    with psycopg.connect(meta_url) as conn:
        for part in parts:
            target = f"petcare.{part}"
            # the app role, even as an admin, has no privilege on a partition
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("SET LOCAL ROLE petcare_app")
                conn.execute("SELECT set_config('app.user_id', %s, true)", (str(admin.user_id),))
                conn.execute(statement.format(target).encode())
            # the owner is refused by the append-only triggers, on every partition
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                with conn.transaction():
                    conn.execute("SET LOCAL ROLE petcare_owner")
                    conn.execute(statement.format(target).encode())
                    if not statement.startswith("TRUNCATE"):  # an empty partition fires no row
                        conn.execute(  # trigger: make sure one row exists and try again
                            "INSERT INTO petcare.audit_log (chain_seq, action, outcome, "
                            "prev_hash, row_hash, at) SELECT 0, 'x', 'ok', '', '', "
                            "CASE WHEN %s = 'audit_log_default' THEN now() + interval '30 years' "
                            "ELSE (petcare.partition_range(%s::regclass)).lo END",
                            (part, target),
                        )
                        conn.execute(statement.format(target).encode())
        # and through the parent, as before
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SET LOCAL ROLE petcare_owner")
            conn.execute(statement.format("petcare.audit_log").encode())
    assert audit.verify(rt.store, admin).ok


def test_the_job_makes_months_ahead_never_drops_one_and_reports_a_default(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        _write_across_months(conn)
        for part in _partitions(conn):
            if part > f"audit_log_p{_month(0)}" and part.startswith("audit_log_p"):
                conn.execute(f"DROP TABLE petcare.{part}")
        # a row beyond every partition: the default takes it (an audit write never fails)
        conn.execute(
            "INSERT INTO petcare.audit_log (chain_seq, action, outcome, prev_hash, row_hash, at) "
            "VALUES (0, 'future', 'ok', '', '', now() + interval '30 years')"
        )
        before = _partitions(conn)

    done = housekeeping.retention(rt)

    assert done["audit_default_rows"] == 1
    with psycopg.connect(meta_url, autocommit=True) as conn:
        after = _partitions(conn)
        home = conn.execute(
            "SELECT tableoid::regclass::text FROM petcare.audit_log WHERE action = 'future'"
        ).fetchone()
    assert set(before) <= set(after)  # nothing dropped, the 14-month-old partition included
    for ahead in range(housekeeping.AUDIT_PARTITION_AHEAD_MONTHS + 1):
        assert f"audit_log_p{_month(ahead)}" in after
    assert home == ("petcare.audit_log_default",)
    assert audit.verify(rt.store, admin).ok
