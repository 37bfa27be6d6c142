"""Whole-database backups (issue 18): pg_dump custom format with the server's own major-version
client, catalogued beside table backups, verified (sha256 + pg_restore --list), restored into a
NEW database with progress, in local storage and in S3 across two instances; hostile names,
tampering and a missing client refused clearly."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from petcare_dba.db.target import dump
from petcare_dba.errors import ConfigError, PetcareError, Refused, ValidationError
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users
from petcare_dba.settings import Settings
from petcare_dba.ui import i18n
from tests.fix_db import PgServer, with_db
from tests.fix_explorer import Target, tgt  # noqa: F401
from tests.fix_s3 import S3, s3, s3_endpoint  # noqa: F401

pytestmark = pytest.mark.slow


def _count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_a_database_backup_verifies_and_restores_into_a_new_database_with_progress(
    rt: Runtime,
    admin: Actor,
    pg: PgServer,
    tgt: Target,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The real Popen, its argv and environment recorded: no credential may reach argv.
    started: list[tuple[list[str], dict[str, str]]] = []
    real = subprocess.Popen

    def recording(argv: list[str], **kw: Any) -> Any:
        if "--version" not in argv and "--list" not in argv:  # these never connect
            started.append((list(argv), dict(kw.get("env") or {})))
        return real(argv, **kw)

    monkeypatch.setattr(dump.subprocess, "Popen", recording)
    tgt.execute("CREATE TABLE public.owners (id int PRIMARY KEY, name text)")
    tgt.execute("INSERT INTO public.owners SELECT g, 'o' || g FROM generate_series(1, 7) g")
    done: list[tuple[int, int]] = []
    entry = backups.backup_database(rt, admin, "tgt", progress=lambda d, t: done.append((d, t)))
    assert (entry.kind, entry.storage, entry.status) == ("database", "local", "ok")
    assert entry.table_name == tgt.name and entry.row_count == 2 and entry.sha256
    assert done[-1] == (2, 2)
    archive = backups.store_dir(rt.settings) / str(entry.path) / "database.dump"
    assert archive.stat().st_size == entry.byte_size
    listed = backups.list_backups(rt, admin, "tgt")
    assert [(b.id, b.kind) for b in listed] == [(entry.id, "database")]
    assert backups.verify(rt, admin, entry.id).ok
    password = urlsplit(tgt.url).password or "no-password-in-this-url"
    assert started and all(password not in " ".join(argv) for argv, _ in started)
    assert all("PGPASSWORD" not in env and "PGPASSFILE" in env for _, env in started)
    assert all(not any("://" in a or "host=" in a for a in argv) for argv, _ in started)

    new = f"{tgt.name}_copy"
    steps: list[tuple[int, int]] = []
    try:
        got = backups.restore_database(
            rt, admin, entry.id, new, progress=lambda d, t: steps.append((d, t))
        )
        assert got == new and steps[-1] == (2, 2)
        assert _count(with_db(tgt.url, new), "public.owners") == 7
        assert _count(with_db(tgt.url, new), "public.all_types") == _count(
            tgt.url, "public.all_types"
        )
        with pytest.raises(PetcareError, match="already exists"):
            backups.restore_database(rt, admin, entry.id, new)
    finally:
        pg.drop_database(new)
    with pytest.raises(Refused, match="never restored over its source"):
        backups.restore_database(rt, admin, entry.id, tgt.name)
    for hostile in ("host=evil dbname=x", "a;b", "../x", "", "é" * 10):
        with pytest.raises(ValidationError):
            backups.restore_database(rt, admin, entry.id, hostile)
    with pytest.raises(ValidationError, match="whole-database backup"):
        backups.restore(rt, admin, entry.id)
    actions = [(e.action, e.outcome) for e in audit.recent(rt.store, admin)]
    for step in ("intent", "ok"):
        assert ("backup.database", step) in actions
        assert ("backup.restore_database", step) in actions
    assert ("backup.restore_database", "refused") in actions

    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    archive.write_bytes(bytes(raw))
    bad = backups.verify(rt, admin, entry.id)
    assert not bad.ok and "sha256 mismatch" in bad.problems[0]
    with pytest.raises(backups.files.Tampered):
        backups.restore_database(rt, admin, entry.id, f"{tgt.name}_never")


def test_a_database_backup_in_s3_made_by_instance_a_restores_on_instance_b(
    test_settings: Settings,
    tmp_path: Path,
    rt: Runtime,
    admin: Actor,
    pg: PgServer,
    tgt: Target,  # noqa: F811
    s3: S3,  # noqa: F811
) -> None:
    a = Runtime.start(test_settings.with_overrides(data_dir=str(tmp_path / "a"), **s3.settings()))
    b = Runtime.start(test_settings.with_overrides(data_dir=str(tmp_path / "b"), **s3.settings()))
    new = f"{tgt.name}_b"
    try:
        entry = backups.backup_database(a, users.actor_for(a, None), "tgt")
        assert entry.storage == f"s3://{s3.bucket}" and set(entry.objects or {}) == {
            "database.dump"
        }
        assert not (backups.store_dir(a.settings) / str(entry.path)).exists()
        assert backups.verify(b, users.actor_for(b, None), entry.id).ok
        backups.restore_database(b, users.actor_for(b, None), entry.id, new)
        assert _count(with_db(tgt.url, new), "public.all_types") == _count(
            tgt.url, "public.all_types"
        )
    finally:
        a.close()
        b.close()
        pg.drop_database(new)


def test_no_client_of_the_servers_major_version_is_refused_with_what_was_found() -> None:
    with pytest.raises(ConfigError) as info:
        dump.client("pg_dump", 99)
    assert info.value.message.startswith("no pg_dump for PostgreSQL 99 on this machine (found:")
    assert "postgresql-client-99" in str(info.value.hint)


def test_the_cli_backs_up_lists_and_restores_a_whole_database(
    test_settings: Settings,
    admin: Actor,
    pg: PgServer,
    tgt: Target,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from typer.testing import CliRunner

    from petcare_dba.cli import app

    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    made = runner.invoke(app, ["backup", "--database", "-c", "tgt", "--format", "json"])
    assert made.exit_code == 0, made.output
    entry = json.loads(made.output)
    assert (entry["kind"], entry["storage"], entry["status"]) == ("database", "local", "ok")
    listed = runner.invoke(app, ["backups", "list", "--format", "json"])
    assert [(b["id"], b["kind"], b["storage"]) for b in json.loads(listed.output)] == [
        (entry["id"], "database", "local")
    ]
    new = f"{tgt.name}_cli"
    try:
        done = runner.invoke(app, ["restore", str(entry["id"]), "--into-database", new])
        assert done.exit_code == 0, done.output
        assert f"into the new database {new}" in done.output
        assert _count(with_db(tgt.url, new), "public.all_types") == _count(
            tgt.url, "public.all_types"
        )
    finally:
        pg.drop_database(new)
    neither = runner.invoke(app, ["backup", "-c", "tgt"])
    assert neither.exit_code != 0


def test_the_backups_page_backs_up_the_whole_database_and_restores_it_into_a_new_one(
    app,  # type: ignore[no-untyped-def]
    admin: Actor,
    rt: Runtime,
    pg: PgServer,
    tgt: Target,  # noqa: F811
) -> None:
    from tests.fix_db import ADMIN_PASSWORD
    from tests.fix_ui import sign_in

    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/backups.py")
    at.session_state["connection"] = "tgt"
    at.run()
    at.button(key="backups_database_run").click()
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception, at.exception
    assert at.success and "tables" in at.success[0].value and "local" in at.success[0].value
    [entry] = backups.list_backups(rt, admin, "tgt")
    assert entry.kind == "database"
    shown = at.dataframe[0].value
    kind, storage = (i18n.translate("en", f"grid.col.{c}") for c in ("kind", "storage"))
    assert list(shown[kind]) == ["database"] and list(shown[storage]) == ["local"]
    new = f"{tgt.name}_ui"
    try:
        at.text_input(key="backups_into_database").input(new)
        at.session_state["connection"] = "tgt"
        at.run()
        at.button(key="backups_restore_database").click()
        at.session_state["connection"] = "tgt"
        at.run()
        assert not at.exception, at.exception
        assert any(new in s.value.replace("\\", "") for s in at.success)
        assert _count(with_db(tgt.url, new), "public.all_types") == _count(
            tgt.url, "public.all_types"
        )
    finally:
        pg.drop_database(new)
