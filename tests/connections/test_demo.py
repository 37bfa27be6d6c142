"""The `petcare` demo database, built for real: sizes, determinism, imperfections, idempotency."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from petcare_dba.db.demo import DemoSummary, build_demo, demo_exists
from petcare_dba.errors import ConfigError, PetcareError

# --- setup: one scratch database per use on a real server (the lead may swap in shared fixtures)

ADMIN_URL = os.environ.get(
    "PETCARE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _url_for(dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=dbname)


@pytest.fixture(scope="module")
def scratch_db() -> Iterator[Callable[[], str]]:
    """A factory of empty, uniquely named databases, all dropped when the module ends."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("PETCARE_REQUIRE_DB") == "1":
            raise
        pytest.skip(f"no PostgreSQL at PETCARE_TEST_DATABASE_URL: {exc}")
    created: list[str] = []

    def make() -> str:
        name = f"demo_test_{uuid.uuid4().hex[:12]}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _url_for(name)

    yield make
    for name in created:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    admin.close()


# --- helpers and shared builds


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(query).fetchall()


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _fingerprint(url: str, table: str, order: str = "id") -> str:
    query = f"SELECT md5(string_agg(t::text, ',' ORDER BY {order})) FROM {table} AS t"
    return str(_rows(url, query)[0][0])


@pytest.fixture(scope="module")
def built(scratch_db: Callable[[], str]) -> tuple[str, DemoSummary, list[tuple[str, float]]]:
    url = scratch_db()
    calls: list[tuple[str, float]] = []
    summary = build_demo(url, 1, lambda label, fraction: calls.append((label, fraction)))
    return url, summary, calls


@pytest.fixture(scope="module")
def demo(built: tuple[str, DemoSummary, list[tuple[str, float]]]) -> str:
    return built[0]


# --- tests

FIXED_SIZES = {
    "species": 6,
    "breeds": 38,
    "clinics": 20,
    "veterinarians": 160,
    "tutors": 25_000,
    "pets": 40_000,
    "appointments": 100_000,
}


def test_scale_1_has_the_documented_sizes(built: tuple[str, DemoSummary, Any]) -> None:
    url, summary, _ = built
    assert summary.created and summary.scale == 1
    for table, rows in FIXED_SIZES.items():
        assert summary.tables[table] == rows, table
    assert max(summary.tables, key=summary.tables.__getitem__) == "appointments"
    for table in ("vaccinations", "prescriptions", "invoices", "payments", "payments_raw"):
        assert 5_000 < summary.tables[table] < 100_000, table
    for table, rows in summary.tables.items():
        assert _rows(url, f"SELECT count(*) FROM {table}")[0][0] == rows, table


def test_progress_is_reported_per_step(built: tuple[str, DemoSummary, Any]) -> None:
    calls = built[2]
    fractions = [fraction for _, fraction in calls]
    assert len(calls) > 10
    assert fractions == sorted(fractions) and fractions[0] == 0.0
    assert calls[-1] == ("done", 1.0)
    assert "Appointments." in [label for label, _ in calls]


def test_same_scale_builds_identical_data(demo: str, scratch_db: Callable[[], str]) -> None:
    twin = scratch_db()
    build_demo(twin, 1)
    for table in (
        "tutors",
        "pets",
        "appointments",
        "vaccinations",
        "prescriptions",
        "invoices",
        "payments",
    ):
        assert _fingerprint(demo, table) == _fingerprint(twin, table), table
    assert _fingerprint(demo, "payments_raw", "t::text") == _fingerprint(
        twin, "payments_raw", "t::text"
    )


def test_foreign_key_without_index_is_only_prescriptions_veterinarian(demo: str) -> None:
    unindexed = _rows(
        demo,
        """
        SELECT c.conrelid::regclass::text, a.attname
        FROM pg_catalog.pg_constraint AS c
        JOIN pg_catalog.pg_attribute AS a
          ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND NOT EXISTS (
              SELECT FROM pg_catalog.pg_index AS i
              WHERE i.indrelid = c.conrelid
                AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey)
        ORDER BY 1, 2""",
    )
    assert unindexed == [("prescriptions", "veterinarian_id")]


def test_duplicate_index_is_only_on_pets_tutor_id(demo: str) -> None:
    duplicates = _rows(
        demo,
        """
        SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
        FROM pg_catalog.pg_index AS a
        JOIN pg_catalog.pg_index AS b
          ON a.indrelid = b.indrelid AND a.indexrelid < b.indexrelid
         AND a.indkey::text = b.indkey::text AND a.indclass::text = b.indclass::text
         AND coalesce(pg_catalog.pg_get_expr(a.indexprs, a.indrelid), '')
             = coalesce(pg_catalog.pg_get_expr(b.indexprs, b.indrelid), '')
         AND coalesce(pg_catalog.pg_get_expr(a.indpred, a.indrelid), '')
             = coalesce(pg_catalog.pg_get_expr(b.indpred, b.indrelid), '')
        JOIN pg_catalog.pg_class AS c ON c.oid = a.indrelid
        WHERE c.relnamespace = 'public'::regnamespace
        ORDER BY 1, 2""",
    )
    assert duplicates == [("pets_tutor_id_idx", "pets_tutor_idx")]


def test_only_payments_raw_lacks_a_primary_key(demo: str) -> None:
    keyless = _rows(
        demo,
        """
        SELECT c.relname FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS k
                          WHERE k.conrelid = c.oid AND k.contype = 'p')
        ORDER BY 1""",
    )
    assert keyless == [("payments_raw",)]
    dupes = _rows(demo, "SELECT count(*) - count(DISTINCT t) FROM payments_raw AS t")
    assert dupes[0][0] > 0


def test_every_table_and_view_has_a_comment(demo: str) -> None:
    relations = _rows(
        demo,
        """
        SELECT c.relname, c.relkind::text,
               pg_catalog.obj_description(c.oid, 'pg_class') IS NOT NULL
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm')
        ORDER BY 1""",
    )
    assert len(relations) == 15
    assert [name for name, _, commented in relations if not commented] == []
    kinds = {name: kind for name, kind, _ in relations}
    assert kinds["upcoming_appointments"] == "v" and kinds["monthly_revenue"] == "m"


def test_views_and_column_types_are_populated(demo: str) -> None:
    assert _rows(demo, "SELECT count(*) FROM monthly_revenue")[0][0] > 0
    assert _rows(demo, "SELECT count(*) FROM appointments WHERE status = 'scheduled'")[0][0] > 0
    types = dict(
        _rows(
            demo,
            """
        SELECT a.attrelid::regclass::text || '.' || a.attname,
               pg_catalog.format_type(a.atttypid, a.atttypmod)
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid IN ('tutors'::regclass, 'appointments'::regclass, 'pets'::regclass,
                             'vaccinations'::regclass, 'clinics'::regclass)
          AND a.attnum > 0 AND NOT a.attisdropped""",
        )
    )
    assert types["tutors.email"] == "email" and types["tutors.cpf"] == "cpf"
    assert types["appointments.status"] == "appointment_status"
    assert types["appointments.price"] == "numeric(10,2)"
    assert types["pets.medical_notes"] == "jsonb"
    assert types["vaccinations.valid_during"] == "daterange"
    assert types["clinics.services"] == "text[]"


def test_second_build_is_a_no_op(demo: str) -> None:
    before = _rows(demo, "SELECT started_at, finished_at FROM demo_build")
    again = build_demo(demo, 1)
    assert not again.created and again.scale == 1 and again.seconds < 5
    assert again.tables["appointments"] == 100_000
    assert _rows(demo, "SELECT started_at, finished_at FROM demo_build") == before
    assert demo_exists(demo)


def test_other_scale_is_kept_unless_rebuild(demo: str) -> None:
    kept = build_demo(demo, 3)
    assert not kept.created and kept.scale == 1
    assert kept.tables["appointments"] == 100_000


@pytest.mark.slow
def test_rebuild_and_failed_builds_are_replaced(scratch_db: Callable[[], str]) -> None:
    url = scratch_db()
    assert not demo_exists(url)
    build_demo(url, 1)
    # Pretend the existing build is at scale 2: kept without rebuild, replaced with it.
    _execute(url, "UPDATE demo_build SET scale = 2")
    assert build_demo(url, 1).scale == 2
    rebuilt = build_demo(url, 1, rebuild=True)
    assert rebuilt.created and rebuilt.scale == 1
    # An unfinished marker means an earlier build failed: always replaced.
    _execute(url, "UPDATE demo_build SET finished_at = NULL")
    assert not demo_exists(url)
    assert build_demo(url, 1).created
    assert demo_exists(url)


def test_refuses_a_database_with_foreign_tables(scratch_db: Callable[[], str]) -> None:
    url = scratch_db()
    _execute(url, "CREATE TABLE clinics (id int)")
    with pytest.raises(ConfigError, match="clinics"):
        build_demo(url, 1)
    assert not demo_exists(url)
    assert _rows(url, "SELECT count(*) FROM clinics") == [(0,)]


def test_bad_scale_and_unreachable_server_raise_petcare_errors() -> None:
    with pytest.raises(ConfigError):
        build_demo(ADMIN_URL, 0)
    with pytest.raises(PetcareError):
        build_demo("postgresql://postgres@127.0.0.1:1/petcare?connect_timeout=2", 1)
