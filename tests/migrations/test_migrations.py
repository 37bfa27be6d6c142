"""Migrations: naming, apply-all on an empty database, re-run is a no-op, edits are refused."""

from __future__ import annotations

import re

import psycopg
import pytest

from petcare_dba.db import migrations
from petcare_dba.errors import ConfigError
from tests.fix_db import RUNTIME_PASSWORD, PgServer


def test_migration_files_are_numbered_contiguously_and_snake_case() -> None:
    found = migrations.available()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(re.fullmatch(r"[a-z0-9_]+", m.name) for m in found)


def test_apply_all_on_empty_database_then_rerun_is_noop(pg: PgServer) -> None:
    name = pg.create_database()
    url = pg.admin_url(name)
    try:
        applied = migrations.migrate(url, RUNTIME_PASSWORD)
        assert [m.version for m in applied] == [m.version for m in migrations.available()]
        assert migrations.migrate(url, RUNTIME_PASSWORD) == []
        assert all(s.applied for s in migrations.status(url))
        with psycopg.connect(url) as conn:
            owners = conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'petcare'"
            ).fetchall()
        assert owners == [("petcare_owner",)]
    finally:
        pg.drop_database(name)


def test_changed_migration_is_refused(meta_url: str) -> None:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(ConfigError, match="changed after it was applied"):
        migrations.migrate(meta_url, RUNTIME_PASSWORD)


def test_status_of_unmigrated_database(pg: PgServer) -> None:
    name = pg.create_database()
    try:
        assert not any(s.applied for s in migrations.status(pg.admin_url(name)))
    finally:
        pg.drop_database(name)
