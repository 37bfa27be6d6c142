"""The partitioning-candidate lint (issue 18) on a real server, with hostile names.

Tables named with quotes, spaces, upper case, unicode and SQL in their names get a finding whose
object is the quoted name and whose remediation, run as written, turns the table into a range
partitioned one under the same name with every row kept (and runs nothing else: the "victim"
table survives). Tables that are already partitioned, partitions, tables without an index led by
a time column, without deletes, or below the size threshold are not named.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg import sql

from petcare_dba.services import advisor
from tests.fix_db import PgServer

SMALL = {"advisor_partition_bytes": 0}
HOSTILE = [
    ('Ops "ünï" sch', 'Évent "Log" 2', 'Créé "at"'),
    ("public", 'ev"; DROP TABLE victim; --', "at"),
    ("public", "Event Log", "Recorded At"),
]


def _candidates(url: str, params: dict[str, object]) -> list[advisor.Finding]:
    result = advisor.run_lints(
        url, "petcare-dba/test", params=params, only=("partition_candidates",)
    )
    assert result.unavailable == (), result.unavailable
    return list(result.findings)


def _eventually(url: str, want: set[str]) -> list[advisor.Finding]:
    """Deletes reach pg_stat_user_tables asynchronously: poll for up to 10 s."""
    deadline = time.monotonic() + 10
    while True:
        found = _candidates(url, SMALL)
        if want <= {f.object for f in found} or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _time_series(conn: psycopg.Connection, schema: str, table: str, column: str) -> None:
    """A table of 2000 rows, indexed on its time column, with a quarter deleted."""
    t = sql.Identifier(schema, table)
    c = sql.Identifier(column)
    conn.execute(
        sql.SQL("CREATE TABLE {} (id int NOT NULL, {} timestamptz NOT NULL, note text)").format(
            t, c
        )
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT g, now() - g * interval '1 hour', 'n' "
            "FROM generate_series(1, 2000) g"
        ).format(t)
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} ({}, id)").format(t, c))
    conn.execute(sql.SQL("DELETE FROM {} WHERE id <= 500").format(t))


def _quoted(conn: psycopg.Connection, schema: str, table: str) -> str:
    """The name as the lint (and psql) shows it: quoted only where needed."""
    row = conn.execute("SELECT format('%%I.%%I', %s::text, %s::text)", (schema, table)).fetchone()
    return str(row[0])


@pytest.mark.parametrize("schema,table,column", HOSTILE, ids=["unicode", "injection", "spaces"])
def test_a_hostile_name_gets_ddl_that_partitions_the_table_and_nothing_else(
    pg: PgServer, schema: str, table: str, column: str
) -> None:
    db = pg.create_database()
    url = pg.admin_url(db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE victim (x int)")
            if schema != "public":
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            _time_series(conn, schema, table, column)
            expected = _quoted(conn, schema, table)
            quoted_column = conn.execute("SELECT quote_ident(%s)", (column,)).fetchone()[0]
        found = [f for f in _eventually(url, {expected}) if f.object == expected]
        assert len(found) == 1, found
        finding = found[0]
        assert finding.level == "INFO" and finding.cache_key.startswith("partition_candidates:")
        assert f"time column {quoted_column} (timestamp with time zone)" in finding.detail
        assert "PARTITION BY RANGE" in finding.remediation
        assert not _candidates(url, {"advisor_partition_bytes": 1 << 40})
        assert not _candidates(url, {**SMALL, "advisor_partition_churn_pct": 5000})

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(finding.remediation.encode())
            kind, rows = conn.execute(
                sql.SQL(
                    "SELECT c.relkind::text, (SELECT count(*) FROM {}) FROM pg_class c "
                    "WHERE c.oid = %s::regclass"
                ).format(sql.Identifier(schema, table)),
                (expected,),
            ).fetchone()
            assert (kind, rows) == ("p", 1500)
            parts = conn.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", (expected,)
            ).fetchone()[0]
            assert parts == 2  # this month's partition and the default one
            assert conn.execute("SELECT to_regclass('public.victim')").fetchone()[0] is not None
            old = _quoted(conn, schema, table + "_unpartitioned")
            assert conn.execute("SELECT to_regclass(%s)", (old,)).fetchone()[0] is not None
        assert expected not in {f.object for f in _candidates(url, SMALL)}
    finally:
        pg.drop_database(db)


def test_partitioned_tables_partitions_and_tables_without_the_pattern_are_not_named(
    pg: PgServer,
) -> None:
    db = pg.create_database()
    url = pg.admin_url(db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            _time_series(conn, "public", "named", "at")
            conn.execute(
                "CREATE TABLE parted (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at)"
            )
            conn.execute("CREATE TABLE parted_all PARTITION OF parted DEFAULT")
            conn.execute("CREATE INDEX ON parted (at)")
            conn.execute("INSERT INTO parted SELECT g, now() FROM generate_series(1, 2000) g")
            conn.execute("DELETE FROM parted WHERE id <= 1000")
            for name, index in (("unindexed", None), ("second_column", "(id, at)")):
                conn.execute(
                    sql.SQL("CREATE TABLE {} (id int, at timestamptz)").format(sql.Identifier(name))
                )
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {} SELECT g, now() FROM generate_series(1, 2000) g"
                    ).format(sql.Identifier(name))
                )
                if index:
                    conn.execute(
                        sql.SQL("CREATE INDEX ON {} " + index).format(sql.Identifier(name))
                    )
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE id <= 1000").format(sql.Identifier(name))
                )
            conn.execute("CREATE TABLE kept (id int, at date)")
            conn.execute("INSERT INTO kept SELECT g, current_date FROM generate_series(1, 2000) g")
            conn.execute("CREATE INDEX ON kept (at)")
        found = _eventually(url, {"public.named"})
        assert [f.object for f in found] == ["public.named"]
    finally:
        pg.drop_database(db)
