"""The one opener of target transactions, and target queries by name only, on a real PostgreSQL.

A caller that hands SQL text to the named-query API (`TargetSession.rows`, `target.read`) is
refused before anything reaches the server; the what-if PREPARE accepts only its template. A
transaction the opener began READ ONLY refuses writes (25006) whatever the database's defaults,
pins the lexing settings even where the database turns them off, sets its timeouts and
settings with bound values, and ends (COMMIT or ROLLBACK) with nothing left open.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from petcare_dba.db import target
from petcare_dba.db.errors import translated
from petcare_dba.db.target import guards
from petcare_dba.db.target.connect import connect
from petcare_dba.db.target.session import session, whatif_prepare
from petcare_dba.errors import ConfigError, PetcareError, Refused
from tests.fix_db import PgServer

APP = "petcare-dba/test/opener"


@pytest.fixture
def db(pg: PgServer) -> Iterator[str]:
    """A scratch target whose database defaults are hostile to the app's assumptions."""
    name = pg.create_database()
    url = pg.admin_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO t VALUES (1, 'one')")
        # A database that lexes differently and defaults to read-write-anything.
        conn.execute(f'ALTER DATABASE "{name}" SET standard_conforming_strings = off')
        conn.execute(f'ALTER DATABASE "{name}" SET statement_timeout = 0')
    yield url
    pg.drop_database(name)


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    "raw",
    [
        "INSERT INTO t VALUES (2, 'two')",
        "DELETE FROM t",
        "CREATE TABLE hostile (x int)",
        "mon_target_database; DELETE FROM t",
        "SELECT 1",
    ],
)
def test_raw_sql_to_the_named_query_api_is_refused_and_never_sent(db: str, raw: str) -> None:
    with session(db, APP, read_only=False) as s:
        for call in (s.rows, s.row, s.value):
            with pytest.raises(Refused, match="not a named query"):
                call(raw)
        # The transaction is still usable: nothing was sent, so nothing failed on the server.
        assert s.value("editor_tx_probe") == 1
        with pytest.raises(Refused):
            s.prepare(raw)
    with pytest.raises(Refused, match="not a named query"):
        target.read(db, APP, raw)
    assert _count(db, "SELECT count(*) FROM t") == 1
    assert _count(db, "SELECT count(*) FROM pg_class WHERE relname = 'hostile'") == 0


def test_a_read_only_opening_refuses_a_write_on_the_server(db: str) -> None:
    with connect(db, APP, autocommit=True) as conn:
        with pytest.raises(PetcareError) as err:
            with guards.guarded(conn, guards.Timeouts(5000, 1000), read_only=True):
                assert guards.opened_read_only(conn)
                # Straight to the server, past every check of the app: PostgreSQL refuses.
                with guards.savepoint(conn):
                    conn.execute("SELECT 1")
                with translated():
                    conn.execute("INSERT INTO t VALUES (3, 'three')")
        assert err.value.sqlstate == "25006"
        assert not guards.opened_read_only(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        # Even a transaction-level attempt to switch the mode back is refused inside it.
        with pytest.raises(psycopg.Error):
            with guards.guarded(conn, guards.Timeouts(5000), read_only=True):
                conn.execute("SET TRANSACTION READ WRITE")
                conn.execute("DELETE FROM t")
    assert _count(db, "SELECT count(*) FROM t") == 1


def test_the_repeatable_read_snapshot_is_read_only_too(db: str) -> None:
    with connect(db, APP, autocommit=True) as conn:
        with guards.guarded(
            conn, guards.Timeouts(0, 2000), read_only=True, isolation="repeatable read"
        ):
            got = conn.execute(
                "SELECT current_setting('transaction_isolation'), "
                "current_setting('transaction_read_only'), "
                "current_setting('statement_timeout'), current_setting('lock_timeout')"
            ).fetchone()
            assert got == ("repeatable read", "on", "0", "2s")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("UPDATE t SET note = 'x'")
    assert _count(db, "SELECT count(*) FROM t WHERE note = 'one'") == 1


def test_the_opening_message_pins_lexing_and_binds_settings(db: str) -> None:
    hostile = "x\\'); SELECT pg_sleep(10); --%s ¥\\"
    with connect(db, APP, autocommit=True) as conn:
        # The database default is off; the opening message turns it on for the transaction.
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        with guards.guarded(
            conn,
            guards.Timeouts(4000, 1500, 9000),
            read_only=True,
            settings={"petcare.probe": hostile},
        ):
            assert guards.drift(conn) == {}
            got = conn.execute(
                "SELECT current_setting('standard_conforming_strings'), "
                "current_setting('backslash_quote'), current_setting('statement_timeout'), "
                "current_setting('lock_timeout'), "
                "current_setting('idle_in_transaction_session_timeout'), "
                "current_setting('petcare.probe')"
            ).fetchone()
            assert got == ("on", "safe_encoding", "4s", "1500ms", "9s", hostile)
        # Transaction-local: all gone after COMMIT.
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        assert conn.execute("SELECT current_setting('petcare.probe', true)").fetchone() in (
            ("",),
            (None,),
        )


def test_rollback_leaves_nothing_and_an_error_ends_the_transaction(db: str) -> None:
    with connect(db, APP, autocommit=True) as conn:
        with guards.guarded(conn, guards.Timeouts(5000), read_only=False, rollback=True):
            conn.execute("INSERT INTO t VALUES (4, 'four')")
        with pytest.raises(ZeroDivisionError):
            with guards.guarded(conn, guards.Timeouts(5000), read_only=False):
                conn.execute("INSERT INTO t VALUES (5, 'five')")
                raise ZeroDivisionError
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _count(db, "SELECT count(*) FROM t") == 1


def test_unknown_isolation_and_a_savepoint_without_a_transaction_are_refused(db: str) -> None:
    with connect(db, APP, autocommit=True) as conn:
        with pytest.raises(ConfigError):
            guards.begin(conn, guards.Timeouts(1000), read_only=True, isolation="read uncommitted")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pytest.raises(ConfigError):
            with guards.savepoint(conn):
                pass


def test_named_reads_run_read_only(db: str) -> None:
    rows = target.read(db, APP, "target_overview")
    assert len(rows) == 1 and rows[0]["table_count"] >= 1
    info = target.overview(db, APP)
    assert info["database"] == rows[0]["database"] and info["latency_ms"] >= 0
    with session(db, APP) as s:
        assert s.row("target_overview")["database"] == rows[0]["database"]
        assert s.conn.execute("SELECT current_setting('transaction_read_only')").fetchone() == (
            "on",
        )


def test_the_what_if_parts_compose_hostile_names_and_leave_nothing(db: str) -> None:
    table, column = 'we"ird; DROP TABLE t; --', "c%ol)"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE TABLE public.{} ({} int)").format(
                psycopg.sql.Identifier(table), psycopg.sql.Identifier(column)
            )
        )
    checked = 'SELECT * FROM public."we""ird; DROP TABLE t; --" WHERE "c%ol)" = $1'
    with session(db, APP, read_only=False, rollback=True) as s:
        s.build_index("public", table, [column])
        s.setting("transaction_read_only", "on")
        s.rows("idx_whatif_deallocate")
        s.prepare(whatif_prepare(checked))
        plan = s.explain_prepared(1)
        assert "Plan" in next(iter(plan.values()))[0]
        built = s.conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relname = %s",
            (table,),
        ).fetchone()
        assert built == (1,)
    # Rolled back: the index is gone, t is intact.
    assert (
        _count(
            db,
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relname LIKE 'we%'",
        )
        == 0
    )
    assert _count(db, "SELECT count(*) FROM t") == 1
