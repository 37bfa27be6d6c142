"""Table backup and restore: byte-identical round trip for every column type, catalogue,
verify, preview, replace with confirmation, retention, role checks and audit."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from petcare_dba.errors import NeedsConfirmation, PermissionDenied, ValidationError
from petcare_dba.services import backups, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_explorer import Target, tgt  # noqa: F401

pytestmark = pytest.mark.slow


def _except_both_ways(t: Target, a: str, b: str, cols: str) -> tuple[int, int]:
    # Types without equality (json, xml, point, ...) are compared through their text output.
    one = t.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT ALL SELECT {cols} FROM {b}) x"
    )
    two = t.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM {b} EXCEPT ALL SELECT {cols} FROM {a}) x"
    )
    return int(one[0][0]), int(two[0][0])  # type: ignore[call-overload]


def test_backup_then_restore_into_new_table_is_byte_identical_for_every_type(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    progress: list[tuple[int, int]] = []
    entry = backups.backup(
        rt, admin, "tgt", "public", "all_types", progress=lambda d, t: progress.append((d, t))
    )
    assert entry.status == "ok" and entry.row_count == 41 and entry.sha256
    assert progress and progress[-1][0] == entry.byte_size
    folder = backups.store_dir(rt.settings) / str(entry.path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["row_count"] == 41 and manifest["sha256"] == entry.sha256
    assert manifest["table"] == "all_types" and manifest["created_by"] == "admin"
    assert "CREATE TABLE public.all_types" in (folder / "table.sql").read_text()
    assert (folder / "data.copy").stat().st_size == entry.byte_size

    result = backups.restore(rt, admin, entry.id)
    assert result.table == f"public.all_types_restored_{entry.id}" and result.rows == 41
    assert result.verified
    cols = ", ".join(
        f"{c}::text"
        for (c,) in tgt.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'public.all_types'::regclass "
            "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
        )
    )
    assert _except_both_ways(tgt, "public.all_types", result.table, cols) == (0, 0)
    # Checksums: the restored table's binary COPY equals the backup file byte for byte.
    from petcare_dba.db.target import backup as dbb

    columns = [dbb.Column(c["name"], c["type"]) for c in manifest["columns"]]
    again = dbb.checksum_table(tgt.url, "test", "public", result.table.split(".")[1], columns)
    assert (again.rows, again.sha256) == (41, entry.sha256)
    assert backups.verify(rt, admin, entry.id).ok
    actions = [(e.action, e.outcome) for e in audit.recent(rt.store, admin)]
    assert ("backup.create", "ok") in actions and ("backup.restore", "ok") in actions


def test_verify_detects_a_tampered_or_truncated_backup(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "all_types")
    data = backups.store_dir(rt.settings) / str(entry.path) / "data.copy"
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF
    data.write_bytes(bytes(raw))
    bad = backups.verify(rt, admin, entry.id)
    assert not bad.ok and "checksum" in bad.problems[0]
    data.write_bytes(bytes(raw[: len(raw) // 2]))
    cut = backups.verify(rt, admin, entry.id)
    assert not cut.ok and any("truncated" in p for p in cut.problems)
    assert backups.get(rt, admin, entry.id).verify_ok is False


def test_preview_shows_first_rows_without_leaving_anything_behind(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "all_types")
    columns, rows = backups.preview(rt, admin, entry.id, limit=5)
    assert columns[0] == "id" and len(rows) == 5
    assert rows[0][columns.index("c_enum")] == "happy"
    assert tgt.execute(
        "SELECT count(*) FROM pg_class WHERE relname = 'petcare_backup_preview'"
    ) == [(0,)]


def test_replace_needs_the_table_named_and_restores_the_original_rows(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "all_types")
    tgt.execute("DELETE FROM public.all_types WHERE id > 10")
    with pytest.raises(NeedsConfirmation) as info:
        backups.restore(rt, admin, entry.id, replace=True, confirm="all_types")
    assert info.value.objects == ("public.all_types",)
    assert tgt.execute("SELECT count(*) FROM public.all_types") == [(10,)]
    result = backups.restore(rt, admin, entry.id, replace=True, confirm="public.all_types")
    assert result.mode == "replace" and result.rows == 41
    assert tgt.execute("SELECT count(*) FROM public.all_types") == [(41,)]


def test_replace_into_a_recreated_table_advances_its_sequences_never_backwards(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    ddl = (
        "CREATE TABLE public.visits (id serial PRIMARY KEY, "
        "n bigint GENERATED BY DEFAULT AS IDENTITY, note text)"
    )
    tgt.execute(ddl)
    tgt.execute("INSERT INTO public.visits (note) SELECT 'v' || g FROM generate_series(1, 50) g")
    entry = backups.backup(rt, admin, "tgt", "public", "visits")
    # The disaster: the table is dropped and recreated from its DDL; its sequences restart at 1.
    tgt.execute("DROP TABLE public.visits")
    tgt.execute(ddl)
    result = backups.restore(rt, admin, entry.id, replace=True, confirm="public.visits")
    assert result.rows == 50 and not result.warnings
    assert sorted(result.sequences) == [
        "public.visits_id_seq -> 50",
        "public.visits_n_seq -> 50",
    ]
    tgt.execute("INSERT INTO public.visits (note) VALUES ('after')")  # no duplicate key
    assert tgt.execute("SELECT id, n FROM public.visits WHERE note = 'after'") == [(51, 51)]
    # A sequence already past the restored rows is left alone.
    tgt.execute("SELECT setval('public.visits_id_seq', 1000)")
    again = backups.restore(rt, admin, entry.id, replace=True, confirm="public.visits")
    assert again.sequences == ()  # id_seq is at 1000, n_seq at 51: both ahead of the rows
    assert tgt.execute("SELECT last_value FROM public.visits_id_seq") == [(1000,)]
    (event,) = [
        e
        for e in audit.recent(rt.store, admin, action="backup.restore", outcome="ok")
        if e.detail.get("restore_id") == result.restore_id
    ]
    assert sorted(event.detail["sequences"]) == sorted(result.sequences)


def test_a_sequence_the_role_may_not_touch_is_a_warning_not_a_lost_restore(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    role = "restorer_" + uuid.uuid4().hex[:8]
    ddl = "CREATE TABLE public.visits (id serial PRIMARY KEY, note text)"
    grant = f"GRANT SELECT, INSERT, TRUNCATE ON public.visits TO {role}"
    tgt.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'Restorer-pw-1'")
    try:
        tgt.execute(ddl)
        tgt.execute("INSERT INTO public.visits (note) SELECT 'v' FROM generate_series(1, 5)")
        tgt.execute(grant)
        parts = urlsplit(tgt.url)
        url = urlunsplit(
            parts._replace(netloc=f"{role}:Restorer-pw-1@{parts.hostname}:{parts.port}")
        )
        connections.add(rt, admin, "tgt_restorer", url, shared=True)
        entry = backups.backup(rt, admin, "tgt_restorer", "public", "visits")
        tgt.execute("DROP TABLE public.visits")
        tgt.execute(ddl)
        tgt.execute(grant)
        result = backups.restore(rt, admin, entry.id, replace=True, confirm="public.visits")
        assert result.rows == 5 and result.sequences == ()
        (warning,) = result.warnings
        assert "public.visits_id_seq was not advanced" in warning and "permission" in warning
        assert tgt.execute("SELECT count(*) FROM public.visits") == [(5,)]  # rows kept
    finally:
        tgt.execute("DROP TABLE IF EXISTS public.visits")
        tgt.execute(f"DROP OWNED BY {role}")
        tgt.execute(f"DROP ROLE {role}")


def test_restore_into_an_existing_name_fails_and_is_catalogued(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "all_types")
    tgt.execute("CREATE TABLE public.taken (x int)")
    with pytest.raises(Exception, match="already exists"):
        backups.restore(rt, admin, entry.id, into="taken")
    failed = backups.restores(rt, admin, entry.id)[0]
    assert failed["status"] == "failed" and "already exists" in failed["error"]


def test_analysts_and_viewers_cannot_back_up_and_the_refusal_is_audited(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
    make_user,
) -> None:  # type: ignore[no-untyped-def]
    ana = make_user("ana", "analyst")
    with pytest.raises(PermissionDenied):
        backups.backup(rt, ana, "tgt", "public", "all_types")
    with pytest.raises(PermissionDenied):
        backups.list_backups(rt, ana)
    refused = [e for e in audit.recent(rt.store, admin) if e.action == "backup.create"]
    assert refused and refused[0].outcome == "refused"


def test_catalogue_lists_backups_per_table_and_retention_prunes_old_ones(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
    pg,
) -> None:  # type: ignore[no-untyped-def]
    first = backups.backup(rt, admin, "tgt", "public", "all_types")
    listed = backups.list_backups(rt, admin, "tgt", "public.all_types")
    assert [b.id for b in listed] == [first.id]
    assert backups.list_backups(rt, admin, "tgt", "other") == []
    # Age the backup past the retention period (as the metadata owner), then prune.
    import psycopg

    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE petcare.table_backups DISABLE ROW LEVEL SECURITY")
        conn.execute("UPDATE petcare.table_backups SET created_at = now() - interval '90 days'")
        conn.execute("ALTER TABLE petcare.table_backups ENABLE ROW LEVEL SECURITY")
    assert backups.prune(rt, admin) == 1
    assert not (backups.store_dir(rt.settings) / str(first.path)).exists()
    assert backups.list_backups(rt, admin, "tgt") == []
    assert backups.get(rt, admin, first.id).status == "deleted"
    with pytest.raises(ValidationError):
        backups.restore(rt, admin, first.id)


def test_backup_store_setting_is_honoured(rt: Runtime, tmp_path: Path) -> None:
    custom = rt.settings.with_overrides(backup_dir=str(tmp_path / "elsewhere"))
    assert backups.store_dir(custom) == tmp_path / "elsewhere"
    assert backups.store_dir(rt.settings) == rt.settings.data_path / "backups"
