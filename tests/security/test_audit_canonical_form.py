"""Issue 15: the audit row's versioned canonical form (migration 0020).

A store migrated to 0019 gets rows from the application (hash_version 1, hashed as 0003 did),
then 0020 and more rows (version 2, a named field list), so every test here walks a chain that
crosses the switch. Adding a column to audit_log no longer breaks verification of old or new
rows; an edited field, an edited hash_version or an unknown one is still found, by the service
and by `petcare-dba audit verify`; a writer cannot pick the old form; and the Python row builder,
the table and the hashed field list agree.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from petcare_dba import settings as settings_mod
from petcare_dba.cli import app
from petcare_dba.db import migrations
from petcare_dba.services import settings_overlay
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, audit_export, users
from tests.fix_db import PgServer

# What version 1 hashes: the columns 0003 created, less id and row_hash.
V1_FIELDS = {
    "chain_seq", "at", "user_id", "username", "app_role", "session_id", "client_addr", "action",
    "event_id", "connection_id", "target", "sql_text", "sql_hash", "classification", "outcome",
    "sqlstate", "rows_affected", "duration_ms", "ai_initiated", "detail", "prev_hash",
}  # fmt: skip
# Columns no canonical form hashes: the storage key and the hash itself.
UNHASHED = {"id", "row_hash"}
# Columns the chain trigger or a default fills; the writer's row does not name them.
FILLED_BY_THE_DATABASE = {"id", "chain_seq", "at", "hash_version", "prev_hash", "row_hash"}


@dataclass
class Spanning:
    """A store whose chain holds rows written before 0020 (v1) and after it (v2)."""

    rt: Runtime
    admin: Actor
    url: str
    settings: settings_mod.Settings


def _write(rt: Runtime, who: Actor, label: str) -> None:
    """A few rows through the application: plain, with SQL text, NULLs, unicode and numbers."""
    audit.record(rt.store, who, f"test.{label}", "ok", detail={"label": label, "n": 1})
    audit.record(
        rt.store,
        who,
        "sql.execute",
        "error",
        target="tgt",
        sql_text="SELECT 'çava', 1.50 /* comment */",
        classification="read",
        sqlstate="42P01",
        rows_affected=0,
        duration_ms=1.5,
        detail={"nested": {"list": [1, None, "x"]}, "label": label},
    )
    audit.record(rt.store, None, "login", "refused", username="nobody", client_addr="192.0.2.7")


def _rows(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(
            "SELECT chain_seq, action, hash_version, prev_hash, row_hash FROM petcare.audit_log "
            "ORDER BY chain_seq"
        ).fetchall()


def _as_superuser(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def spanning(pg: PgServer, test_settings: settings_mod.Settings) -> Iterator[Spanning]:
    name = pg.create_database()
    url = pg.admin_url(name)
    env = {
        "PETCARE_" + n.upper(): str(test_settings.values[n])
        for n, source in test_settings.sources.items()
        if source == "env"
    }
    settings = settings_mod.load(env={**env, "PETCARE_DATABASE_URL": url})
    every = migrations.available()
    assert every[19].name == "audit_canonical_form"
    # The application on a store before 0020: the real migrator, shown only 0001-0019.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(migrations, "available", lambda: every[:19])
        # ...and as it was then: no run-time settings to read (their table came with 0032).
        mp.setattr(settings_overlay, "read", lambda store, keyring: {})
        before = Runtime.start(settings)
        try:
            users.ensure_first_admin(before)
            _write(before, users.actor_for(before, None), "before")
        finally:
            before.close()
    rt = Runtime.start(settings)
    try:
        admin = users.actor_for(rt, None)
        _write(rt, admin, "after")
        yield Spanning(rt, admin, url, settings)
    finally:
        rt.close()
        pg.drop_database(name)


def test_rows_written_before_0020_keep_verifying_and_the_chain_crosses_the_switch(
    spanning: Spanning,
) -> None:
    rows = _rows(spanning.url)
    versions = [r["hash_version"] for r in rows]
    switch = versions.index(2)
    assert switch >= 4 and set(versions[:switch]) == {1} and set(versions[switch:]) == {2}
    # one chain: the first version-2 row links to the last version-1 row
    assert rows[switch]["prev_hash"] == rows[switch - 1]["row_hash"]
    status = audit.verify(spanning.rt.store, spanning.admin)
    assert (status.ok, status.checked, status.reason) == (True, len(rows), None)
    with psycopg.connect(spanning.url) as conn:
        # version 1 is 0003's formula over 0003's columns, not a new one that happens to verify
        conn.execute("SET TimeZone = 'UTC'")
        unlike_0003 = conn.execute(
            "SELECT chain_seq FROM petcare.audit_log r WHERE hash_version = 1 AND row_hash <> "
            "encode(sha256(convert_to(prev_hash || (to_jsonb(r) - 'row_hash' - 'id' "
            "- 'hash_version')::text, 'UTF8')), 'hex')"
        ).fetchall()
        # and the session's time zone does not change any form
        conn.execute("SET TimeZone = 'America/Sao_Paulo'")
        unlike_stored = conn.execute(
            "SELECT chain_seq FROM petcare.audit_log r "
            "WHERE petcare.audit_row_hash(r) IS DISTINCT FROM row_hash"
        ).fetchall()
    assert (unlike_0003, unlike_stored) == ([], [])


def test_adding_a_column_keeps_old_and_new_rows_verifying(spanning: Spanning) -> None:
    """The migration test of issue 15: ALTER TABLE ADD COLUMN no longer breaks the history."""
    assert audit.verify(spanning.rt.store, spanning.admin).ok  # pooled sessions cache plans
    _as_superuser(
        spanning.url,
        "SET ROLE petcare_owner",  # as a migration would
        "ALTER TABLE petcare.audit_log ADD COLUMN some_new_col text",
    )
    status = audit.verify(spanning.rt.store, spanning.admin)
    assert status.ok, status
    _write(spanning.rt, spanning.admin, "after_alter")
    # a row that fills the new column directly (it is in no form yet, so it is not hashed)
    _as_superuser(
        spanning.url,
        "INSERT INTO petcare.audit_log (chain_seq, action, outcome, prev_hash, row_hash, "
        "some_new_col) VALUES (0, 'test.new_col', 'ok', '', '', 'filled')",
    )
    _write(spanning.rt, spanning.admin, "after_new_col")
    rows = _rows(spanning.url)
    assert {r["hash_version"] for r in rows} == {1, 2}
    status = audit.verify(spanning.rt.store, spanning.admin)
    assert (status.ok, status.checked) == (True, len(rows)), status
    # and a second added column, dropped again, changes nothing either
    _as_superuser(
        spanning.url,
        "ALTER TABLE petcare.audit_log ADD COLUMN another int DEFAULT 7",
        "ALTER TABLE petcare.audit_log DROP COLUMN another",
    )
    _write(spanning.rt, spanning.admin, "after_drop")
    assert audit.verify(spanning.rt.store, spanning.admin).ok


@pytest.mark.parametrize("column", [None, "some_new_col"])
def test_tampering_is_found_in_either_form(spanning: Spanning, column: str | None) -> None:
    if column:
        _as_superuser(
            spanning.url, f"ALTER TABLE petcare.audit_log ADD COLUMN {column} text DEFAULT 'x'"
        )
    rows = _rows(spanning.url)
    # rows with every tampered field set (the engine's error row), one of each form
    v1 = next(
        r["chain_seq"] for r in rows if r["hash_version"] == 1 and r["action"] == "sql.execute"
    )
    v2 = next(
        r["chain_seq"] for r in rows if r["hash_version"] == 2 and r["action"] == "sql.execute"
    )
    cases = [
        (v1, "detail", "'{}'::jsonb", "row altered"),
        (v1, "at", "at + interval '1 microsecond'", "row altered"),
        (v1, "username", "NULL", "row altered"),
        (v2, "detail", 'detail || \'{"label": "forged"}\'', "row altered"),
        (v2, "outcome", "'ok'", "row altered"),
        (v2, "target", "target || ' '", "row altered"),
        (v2, "sql_text", "NULL", "row altered"),
        (v1, "hash_version", "2", "row altered"),
        (v2, "hash_version", "1", "row altered"),
        (v2, "hash_version", "3", "unknown hash version 3"),
        (v1, "hash_version", "0", "unknown hash version 0"),
    ]
    with psycopg.connect(spanning.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER USER")
        conn.execute("CREATE TEMP TABLE keep AS SELECT * FROM petcare.audit_log")
        for seq, field, value, reason in cases:
            conn.execute(f"UPDATE petcare.audit_log SET {field} = {value} WHERE chain_seq = {seq}")  # type: ignore[arg-type]
            status = audit.verify(spanning.rt.store, spanning.admin)
            found = (status.ok, status.first_broken_seq, status.reason)
            assert found == (False, seq, reason), (field, seq)
            conn.execute(
                f"UPDATE petcare.audit_log a SET {field} = k.{field} FROM keep k "  # type: ignore[arg-type]
                f"WHERE a.chain_seq = k.chain_seq AND a.chain_seq = {seq}"
            )
            assert audit.verify(spanning.rt.store, spanning.admin).ok, (field, seq)
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER USER")


def test_cli_verify_passes_on_a_chain_spanning_both_forms(
    spanning: Spanning, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, source in spanning.settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(spanning.settings.values[name]))
    runner = CliRunner()
    total = len(_rows(spanning.url))
    text = runner.invoke(app, ["audit", "verify"], catch_exceptions=False)
    assert (text.exit_code, text.output.strip()) == (0, f"ok: {total} rows, chain intact")
    verified = runner.invoke(app, ["audit", "verify", "--format", "json"], catch_exceptions=False)
    report = json.loads(verified.output)
    assert verified.exit_code == 0 and report["ok"] is True and report["checked"] == total
    exported = runner.invoke(app, ["audit", "export", "--format", "jsonl"], catch_exceptions=False)
    lines = [json.loads(line) for line in exported.output.splitlines() if line.startswith("{")]
    assert exported.exit_code == 0 and {r["hash_version"] for r in lines} == {1, 2}
    # the CLI's exit code tells a cron job that an old row was edited
    first_v1 = next(r["chain_seq"] for r in _rows(spanning.url) if r["action"] == "sql.execute")
    _as_superuser(
        spanning.url,
        "ALTER TABLE petcare.audit_log DISABLE TRIGGER USER",
        f"UPDATE petcare.audit_log SET target = 'elsewhere' WHERE chain_seq = {first_v1}",
    )
    broken = runner.invoke(app, ["audit", "verify"], catch_exceptions=False)
    assert broken.exit_code == 1
    assert broken.output.strip() == f"BROKEN at chain_seq {first_v1}: row altered"


def test_a_writer_cannot_choose_the_old_form_or_the_link(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    """Hostile rows with the runtime credential: hash_version, chain_seq, prev_hash and
    row_hash in the JSON row or in a plain INSERT are all replaced by the chain trigger."""
    forged = {
        **json.loads(audit.row_for(admin, "test.forged", "ok")),
        "hash_version": 1,
        "chain_seq": 999,
        "prev_hash": "0" * 64,
        "row_hash": "f" * 64,
        "id": 424242,
        "no_such_column": "dropped",
    }
    with psycopg.connect(meta_url) as conn:
        conn.execute("SET ROLE petcare_app")
        conn.execute("SELECT set_config('app.user_id', %s, false)", (str(admin.user_id),))
        conn.execute("SELECT petcare.audit_append(%s::jsonb)", (json.dumps(forged),))
        conn.execute(
            "INSERT INTO petcare.audit_log (chain_seq, user_id, action, outcome, hash_version, "
            "prev_hash, row_hash) VALUES (7, %s, 'test.direct', 'ok', 1, 'x', 'y')",
            (admin.user_id,),
        )
    rows = _rows(meta_url)
    assert [r["hash_version"] for r in rows[-2:]] == [2, 2]
    assert rows[-1]["prev_hash"] == rows[-2]["row_hash"] and rows[-1]["chain_seq"] == len(rows)
    assert audit.verify(rt.store, admin).ok


def test_the_row_builder_the_table_and_the_hashed_fields_agree(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    """The hashed list is declared once, in SQL; this holds the other names to it.

    A migration that adds an audit_log column fails here until it decides: hash it (a new
    version) or add it to UNHASHED with the reason.
    """
    # every key the builder writes reaches its column through the one insert path (named query
    # audit_insert -> petcare.audit_append): jsonb_populate_record would drop a stray key silently
    every_field: dict[str, Any] = {
        "username": "ghost",
        "event_id": uuid.uuid4(),
        "connection_id": 77,
        "target": "tgt",
        "sql_text": "SELECT 'ü'",
        "classification": "read",
        "sqlstate": "42P01",
        "rows_affected": 3,
        "duration_ms": 1.25,
        "ai_initiated": True,
        "client_addr": "198.51.100.9",
        "detail": {"k": [1, None]},
    }
    sent = json.loads(audit.row_for(None, "test.shape", "error", **every_field))
    audit.record(rt.store, None, "test.shape", "error", **every_field)
    with psycopg.connect(meta_url) as conn:
        (stored,) = conn.execute(
            "SELECT to_jsonb(a) FROM petcare.audit_log a WHERE action = 'test.shape'"
        ).fetchone()  # type: ignore[misc]
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = "
                "'petcare.audit_log'::regclass AND attnum > 0 AND NOT attisdropped"
            )
        }
        v2, v1 = conn.execute(
            "SELECT petcare.audit_canonical_v2(r)::jsonb, petcare.audit_canonical_v1(r) "
            "FROM petcare.audit_log r ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    assert set(v2) == columns - UNHASHED
    assert set(json.loads(v1[64:])) == V1_FIELDS == columns - UNHASHED - {"hash_version"}
    built = set(json.loads(audit.row_for(admin, "x", "ok")))
    assert built == columns - FILLED_BY_THE_DATABASE
    assert set(audit_export.EXPORT_COLUMNS) == columns - {"id", "user_id"}
    assert {k: stored[k] for k in sent if k != "detail"} == {
        k: v for k, v in sent.items() if k != "detail"
    }
    assert stored["detail"] == {**sent["detail"], "client_addr_source": "caller"}
