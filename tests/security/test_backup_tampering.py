"""Hostile backups (issue 14, U1): an attacker who can write the backup store edits the manifest,
swaps the data file or plants links, then waits for a dba to restore or preview.

Each tampering must be refused before any statement reaches the target (no restore row, no new
table, `precious` intact), be reported by `backups verify`, and leave a `refused` audit row.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from petcare_dba.db.target import backup as dbb
from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.security.f_files_fixtures import Victim, victim  # noqa: F401

pytestmark = pytest.mark.slow

INJECT = "text); DROP TABLE public.precious; CREATE TABLE public.pwn AS SELECT 1 AS x; --"
TABLES = ["other", "precious", "victim"]


def _col(m: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in m["columns"] if c["name"] == name)


def _set(m: dict[str, Any], name: str, key: str, value: Any) -> dict[str, Any]:
    _col(m, name)[key] = value
    return m


MANIFEST_EDITS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "type_injection": lambda m: _set(m, "name", "type", INJECT),
    "type_injection_in_base": lambda m: _set(m, "amount", "base", INJECT),
    "type_injection_in_typmod": lambda m: _set(m, "amount", "typmod", "1); DROP TABLE x; --"),
    "collation_injection": lambda m: _set(
        m, "name", "collation", '"C"; DROP TABLE public.precious; --'
    ),
    "column_name": lambda m: _set(m, "id", "name", 'id" int); DROP TABLE public.precious; --'),
    "default_smuggled": lambda m: _set(m, "id", "default", "pg_sleep(5)"),
    "extra_column": lambda m: {**m, "columns": [*m["columns"], {"name": "z", "type": "int"}]},
    "missing_column": lambda m: {**m, "columns": m["columns"][:-1]},
    "columns_not_a_list": lambda m: {**m, "columns": "id int"},
    "column_type_not_text": lambda m: _set(m, "id", "type", 4),
    "row_count_edited": lambda m: {**m, "row_count": m["row_count"] + 1},
    "sha256_edited": lambda m: {**m, "sha256": "0" * 64},
    "data_file_traversal": lambda m: {**m, "data_file": "../../secrets/secret.key"},
    "data_file_absolute": lambda m: {**m, "data_file": "/etc/passwd"},
    "data_file_not_text": lambda m: {**m, "data_file": ["data.copy"]},
    "data_file_dotdot": lambda m: {**m, "data_file": ".."},
}


def _assert_refused_and_untouched(rt: Runtime, admin: Actor, v: Victim, action: str) -> None:
    assert v.tables() == TABLES
    assert v.query("SELECT count(*) FROM public.precious") == [(7,)]
    assert backups.restores(rt, admin, v.entry.id) == []
    refused = [
        e
        for e in audit.recent(rt.store, admin, action=action)
        if e.outcome == "refused" and e.detail.get("backup_id") == v.entry.id
    ]
    assert refused, f"no refused {action} audit row"


@pytest.mark.parametrize("edit", sorted(MANIFEST_EDITS))
def test_a_tampered_manifest_is_refused_by_restore_preview_and_verify(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
    edit: str,
) -> None:
    victim.write_manifest(MANIFEST_EDITS[edit](victim.manifest()))
    with pytest.raises(ValidationError) as info:
        backups.restore(rt, admin, victim.entry.id)
    assert "refused" in info.value.message
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")
    with pytest.raises(ValidationError):
        backups.restore(rt, admin, victim.entry.id, replace=True, confirm="public.victim")
    assert victim.query("SELECT count(*) FROM public.victim") == [(30,)]
    with pytest.raises(ValidationError):
        backups.preview(rt, admin, victim.entry.id)
    _assert_refused_and_untouched(rt, admin, victim, "backup.preview")
    result = backups.verify(rt, admin, victim.entry.id)
    assert not result.ok and result.problems


def test_a_manifest_that_is_not_json_is_refused(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    (victim.folder / "manifest.json").write_bytes(b"\xff\xfe{not json")
    with pytest.raises(ValidationError, match="not valid JSON"):
        backups.restore(rt, admin, victim.entry.id)
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")
    (victim.folder / "manifest.json").write_bytes(b"{" + b" " * (2 << 20) + b"}")
    with pytest.raises(ValidationError, match="larger than"):
        backups.restore(rt, admin, victim.entry.id)


def test_traversal_to_an_existing_secret_is_refused_without_reading_it(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    secret = victim.folder.parent.parent / "secrets" / "secret.key"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(open(victim.folder / "data.copy", "rb").read())  # a valid COPY file even
    victim.write_manifest({**victim.manifest(), "data_file": "../../secrets/secret.key"})
    with pytest.raises(ValidationError, match="not a plain file name"):
        backups.restore(rt, admin, victim.entry.id)
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")


def test_a_swapped_data_file_is_refused_even_with_a_matching_manifest(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    other = backups.backup(rt, admin, "tgt", "public", "other")
    other_folder = backups.store_dir(rt.settings) / str(other.path)
    shutil.copyfile(other_folder / "data.copy", victim.folder / "data.copy")
    # First the data alone: the catalogue's checksum catches it.
    with pytest.raises(ValidationError, match="checksum"):
        backups.restore(rt, admin, victim.entry.id)
    # Then the attacker also rewrites the manifest to the new file's checksum and row count.
    manifest = victim.manifest()
    manifest.update(sha256=other.sha256, row_count=other.row_count)
    victim.write_manifest(manifest)
    with pytest.raises(ValidationError, match="differs from the catalogue"):
        backups.restore(rt, admin, victim.entry.id)
    with pytest.raises(ValidationError):
        backups.preview(rt, admin, victim.entry.id)
    assert not backups.verify(rt, admin, victim.entry.id).ok
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")


def test_a_symlinked_data_file_is_refused_even_when_its_bytes_match(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    data = victim.folder / "data.copy"
    twin = victim.folder.parent / "twin.copy"
    shutil.copyfile(data, twin)
    data.unlink()
    os.symlink(twin, data)
    with pytest.raises(ValidationError, match="cannot be opened"):
        backups.restore(rt, admin, victim.entry.id)
    with pytest.raises(ValidationError):
        backups.preview(rt, admin, victim.entry.id)
    assert not backups.verify(rt, admin, victim.entry.id).ok
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")


def test_a_symlinked_backup_folder_is_refused(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    moved = victim.folder.with_name("elsewhere")
    victim.folder.rename(moved)
    os.symlink(moved, victim.folder)
    with pytest.raises(ValidationError, match="not a directory"):
        backups.restore(rt, admin, victim.entry.id)
    _assert_refused_and_untouched(rt, admin, victim, "backup.restore")


@pytest.mark.parametrize(
    ("column", "key", "value"),
    [
        ("name", "type", INJECT),
        ("name", "collation", '"C"; DROP TABLE public.precious; --'),
        ("id", "type", "int DEFAULT pg_sleep(3)"),
        ("id", "type", "no_such_type"),
    ],
)
def test_legacy_backups_resolve_manifest_types_through_the_catalogue(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
    meta_url: str,
    column: str,
    key: str,
    value: str,
) -> None:
    # A backup made before column definitions were catalogued: the manifest is all there is.
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.table_backups SET columns = NULL")
    manifest = victim.manifest()
    for c in manifest["columns"]:
        c.pop("base"), c.pop("typmod")
    victim.write_manifest(_set(manifest, column, key, value))
    with pytest.raises(ValidationError, match="does not resolve"):
        backups.restore(rt, admin, victim.entry.id)
    with pytest.raises(ValidationError, match="does not resolve"):
        backups.preview(rt, admin, victim.entry.id)
    assert victim.tables() == TABLES
    assert victim.query("SELECT count(*) FROM public.precious") == [(7,)]
    failed = backups.restores(rt, admin, victim.entry.id)
    assert [r["status"] for r in failed] == ["failed"]


def test_hostile_column_types_never_reach_the_server_as_sql(
    victim: Victim,  # noqa: F811
) -> None:
    # Even if the catalogue itself held hostile text, copy_in resolves it and refuses.
    for column in (
        dbb.Column("id", INJECT, None, INJECT, -1),
        dbb.Column("id", "integer", '"C"; DROP TABLE public.precious; --', "integer", -1),
        dbb.Column("id", "integer) ; DROP TABLE public.precious; --", None, "integer", -1),
    ):
        statements: list[str] = []
        with pytest.raises(PetcareError, match="does not resolve"):
            dbb.copy_in(
                victim.url,
                "test",
                "public",
                "restored",
                [column],
                victim.folder / "data.copy",
                replace=False,
                expected_rows=30,
                statements=statements,
            )
        assert statements == []
    assert victim.tables() == TABLES


def test_an_untouched_backup_restores_with_its_statements_in_the_audit(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    result = backups.restore(rt, admin, victim.entry.id)
    assert result.rows == 30 and result.verified
    assert victim.query(
        f"SELECT format_type(atttypid, atttypmod), attcollation::regcollation::text "
        f"FROM pg_attribute WHERE attrelid = '{result.table}'::regclass AND attnum > 0 "
        "ORDER BY attnum"
    ) == [("integer", "-"), ("text", '"C"'), ("numeric(10,2)", "-")]
    [ok] = [e for e in audit.recent(rt.store, admin, action="backup.restore") if e.outcome == "ok"]
    assert ok.sql_text and "CREATE TABLE" in ok.sql_text and "COPY" in ok.sql_text
    assert 'COLLATE "pg_catalog"."C"' in ok.sql_text or 'COLLATE pg_catalog."C"' in ok.sql_text
    assert backups.verify(rt, admin, victim.entry.id).ok
    assert backups.preview(rt, admin, victim.entry.id, limit=3)[1][0] == ("1", "n1", "1.50")
