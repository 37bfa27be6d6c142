"""Partitioned tables back up and restore whole (issue 16): every partition with its bounds and
rows, checksums per member, a restore into a new tree or over the original in one transaction;
and `restore --into` recreates NOT NULL, defaults, identity/serial, the primary key, unique and
check constraints (and with `with_indexes` the other indexes) for every table."""

from __future__ import annotations

import json

import psycopg
import pytest

from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.backups.fix_partitioned import definition, except_both_ways, parts, q  # noqa: F401
from tests.fix_explorer import (
    Target,
    tgt,  # noqa: F401
)

pytestmark = pytest.mark.slow


def test_a_partition_tree_round_trips_with_bounds_rows_and_structure(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "events")
    assert entry.status == "ok" and entry.row_count == 300 and entry.partitioned
    members = entry.members or []
    assert [m["table"] for m in members] == [
        "events",
        "events_2024",
        "events_2025",
        "old_events",
        "events_2024_care",
        "events_2024_rest",
        "events_2025_h0",
        "events_2025_h1",
    ]
    leaves = [m for m in members if not m["partitioned"]]
    assert sum(m["rows"] for m in leaves) == 300 and all(m["sha256"] for m in leaves)
    folder = backups.store_dir(rt.settings) / str(entry.path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["members"] == members and manifest["kind"] == "partitioned table"
    assert sorted(p.name for p in folder.glob("part-*.copy")) == sorted(
        m["data_file"] for m in leaves
    )
    assert backups.verify(rt, admin, entry.id).ok

    result = backups.restore(rt, admin, entry.id, into="copy", with_indexes=True)
    assert result.rows == 300 and result.verified and result.table == "public.copy"
    assert result.members == (
        "public.copy_2024",
        "public.copy_2025",
        "public.copy_old_events",
        "public.copy_2024_care",
        "public.copy_2024_rest",
        "public.copy_2025_h0",
        "public.copy_2025_h1",
    )
    assert except_both_ways(parts, "public.events", "public.copy") == (0, 0)
    original, copy = definition(parts, "public.events"), definition(parts, "public.copy")
    assert copy["columns"] == original["columns"] and copy["tree"] == original["tree"]
    assert copy["constraints"] == original["constraints"]
    assert copy["indexes"] == original["indexes"]
    assert "foreign key" in " ".join(result.not_recreated)
    # Its own serial sequence, moved past the restored keys; the original's is untouched.
    assert parts.execute("SELECT pg_get_serial_sequence('public.copy', 'id')") == [
        ("public.copy_id_seq",)
    ]
    parts.execute("INSERT INTO public.copy (at) VALUES ('2025-06-01')")
    assert parts.execute("SELECT max(id) FROM public.copy") == [(301,)]
    assert parts.execute("SELECT last_value FROM public.events_id_seq") == [(300,)]
    # Without the option, only the plain (non-unique) indexes are missing.
    bare = backups.restore(rt, admin, entry.id, into="bare")
    unique = [i for i in original["indexes"] if i[0]]
    assert definition(parts, "public.bare")["indexes"] == unique and len(unique) == 2
    assert any("events_region_idx" in n for n in bare.not_recreated)
    (event,) = [
        e
        for e in audit.recent(rt.store, admin, action="backup.restore", outcome="ok")
        if e.detail.get("restore_id") == result.restore_id
    ]
    assert event.detail["members"] == list(result.members)
    assert "PARTITION OF" in (event.sql_text or "")


def test_replace_restores_every_partition_in_place_and_refuses_a_changed_tree(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    parts.execute("CREATE TABLE public.snap AS TABLE public.events")
    entry = backups.backup(rt, admin, "tgt", "public", "events")
    parts.execute("DELETE FROM public.events WHERE id % 3 = 0")
    parts.execute("UPDATE public.events SET note = 'changed' WHERE id < 50")
    parts.execute("INSERT INTO public.events (at, region) VALUES ('2024-05-05', 'eu')")
    result = backups.restore(rt, admin, entry.id, replace=True, confirm="public.events")
    assert result.mode == "replace" and result.rows == 300
    assert except_both_ways(parts, "public.events", "public.snap") == (0, 0)
    assert result.sequences == ()  # the sequence is already past the restored keys
    # A tree that changed since the backup is refused, and nothing moves.
    parts.execute("ALTER TABLE public.events DETACH PARTITION public.old_events")
    parts.execute("DELETE FROM public.events_2024_care")
    with pytest.raises(ValidationError, match=r"partitions of public\.events changed"):
        backups.restore(rt, admin, entry.id, replace=True, confirm="public.events")
    assert parts.execute("SELECT count(*) FROM public.events_2024_care") == [(0,)]


def test_a_failure_mid_restore_leaves_nothing_and_the_audit_says_what_was_tried(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "events")
    # The third member's name is taken: parent and two partitions exist when it fails.
    parts.execute("CREATE TABLE public.clash_old_events (x int)")
    with pytest.raises(PetcareError, match="already exists"):
        backups.restore(rt, admin, entry.id, into="clash")
    assert parts.execute(
        "SELECT relname FROM pg_class WHERE relname LIKE 'clash%' ORDER BY relname"
    ) == [("clash_old_events",)]
    [row] = backups.restores(rt, admin, entry.id)
    assert row["status"] == "failed" and "already exists" in row["error"]
    (event,) = audit.recent(rt.store, admin, action="backup.restore", outcome="error")
    tried = event.sql_text or ""
    assert 'CREATE TABLE "public"."clash"' in tried and '"public"."clash_2025"' in tried
    assert event.detail["members"][2] == "public.clash_old_events"


def test_verify_and_restore_check_every_member_file(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "events")
    leaf = next(m for m in entry.members or [] if m["table"] == "events_2025_h1")
    data = backups.store_dir(rt.settings) / str(entry.path) / leaf["data_file"]
    raw = bytearray(data.read_bytes())
    raw[40] ^= 0xFF
    data.write_bytes(bytes(raw))
    result = backups.verify(rt, admin, entry.id)
    assert not result.ok and any("events_2025_h1" in p for p in result.problems)
    with pytest.raises(ValidationError, match="events_2025_h1"):
        backups.restore(rt, admin, entry.id, into="never")
    assert parts.execute("SELECT to_regclass('public.never')") == [(None,)]
    # A manifest whose members were edited (a bound, say) is refused before any DDL.
    folder = data.parent
    manifest = json.loads((folder / "manifest.json").read_text())
    data.write_bytes(bytes(raw[:40]) + bytes([raw[40] ^ 0xFF]) + bytes(raw[41:]))
    manifest["members"][1]["bound"] = "DEFAULT"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"members in manifest\.json differ"):
        backups.restore(rt, admin, entry.id, into="never")
    # So is a smuggled default or check: the structure is the catalogue's to say.
    manifest["members"] = entry.members
    manifest["structure"]["columns"][1]["default"] = "pg_sleep(5)"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"structure in manifest\.json differs"):
        backups.restore(rt, admin, entry.id, into="never")
    assert parts.execute("SELECT to_regclass('public.never')") == [(None,)]


def test_restore_into_recreates_the_structure_of_an_ordinary_table(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    parts.execute(
        "CREATE TABLE public.pets (id serial PRIMARY KEY, "
        "code bigint GENERATED ALWAYS AS IDENTITY, "
        "name text NOT NULL DEFAULT 'rex', tag uuid UNIQUE, "
        "weight numeric CHECK (weight > 0), born date DEFAULT CURRENT_DATE, "
        "kind text REFERENCES public.kinds (kind), during tstzrange, "
        "grams numeric GENERATED ALWAYS AS (weight * 1000) STORED, "
        "EXCLUDE USING gist (during WITH &&))"
    )
    parts.execute("CREATE INDEX pets_name_idx ON public.pets (name DESC NULLS LAST)")
    parts.execute(
        "INSERT INTO public.pets (name, tag, weight, kind) SELECT 'p' || g, "
        "gen_random_uuid(), g, 'visit' FROM generate_series(1, 20) g"
    )
    entry = backups.backup(rt, admin, "tgt", "public", "pets")
    assert not entry.partitioned and entry.members and len(entry.members) == 1
    result = backups.restore(rt, admin, entry.id, into="pets_copy", with_indexes=True)
    original, copy = definition(parts, "public.pets"), definition(parts, "public.pets_copy")
    for key in ("columns", "constraints", "indexes"):
        assert copy[key] == original[key], key
    assert except_both_ways(parts, "public.pets", "public.pets_copy") == (0, 0)
    assert sorted(result.recreated) == sorted(
        [
            "generated column grams",
            "primary key pets_copy_pkey",
            "unique pets_copy_tag_key",
            "exclusion pets_copy_during_excl",
            "check pets_copy_weight_check",
            "index pets_copy_name_idx",
        ]
    )
    parts.execute("INSERT INTO public.pets_copy (name) VALUES ('new')")
    assert parts.execute("SELECT id, code FROM public.pets_copy WHERE name = 'new'") == [(21, 21)]
    with pytest.raises(psycopg.errors.CheckViolation):
        parts.execute("INSERT INTO public.pets_copy (weight) VALUES (-1)")


HOSTILE_SQL = r'''
CREATE SCHEMA "Sch ""ema"".x";
CREATE TABLE "Sch ""ema"".x"."Ta""ble. Ñ select" (
    "Col ""q"" .x" int NOT NULL,
    "select" text NOT NULL DEFAULT 'it''s; DROP TABLE x',
    "Ünï" numeric CHECK ("Ünï" > 0),
    "50%% off" text DEFAULT '100%s' CHECK ("50%% off" NOT LIKE '%(x)s%%'),
    PRIMARY KEY ("Col ""q"" .x", "select")
) PARTITION BY LIST ("select");
CREATE TABLE "Sch ""ema"".x"."Ta""ble. Ñ select_a" PARTITION OF "Sch ""ema"".x"."Ta""ble. Ñ select"
    FOR VALUES IN ('a', 'it''s; DROP TABLE x');
CREATE TABLE "Sch ""ema"".x"."other ""part""" PARTITION OF "Sch ""ema"".x"."Ta""ble. Ñ select"
    DEFAULT;
CREATE INDEX "Idx ""Ünï""" ON "Sch ""ema"".x"."Ta""ble. Ñ select" ("Ünï");
INSERT INTO "Sch ""ema"".x"."Ta""ble. Ñ select" ("Col ""q"" .x", "select", "Ünï")
SELECT g, (ARRAY['a', 'b', 'it''s; DROP TABLE x'])[1 + g % 3], g FROM generate_series(1, 30) g;
'''


def test_hostile_names_survive_backup_and_restore_into_a_new_name(
    rt: Runtime,
    admin: Actor,
    parts: Target,  # noqa: F811
) -> None:
    parts.execute(HOSTILE_SQL)
    schema, table = 'Sch "ema".x', 'Ta"ble. Ñ select'
    entry = backups.backup(rt, admin, "tgt", schema, table)
    assert entry.row_count == 30 and entry.partitioned
    result = backups.restore(
        rt, admin, entry.id, into='"Sch ""ema"".x"."New ""N"". ünï"', with_indexes=True
    )
    assert result.table == 'Sch "ema".x.New "N". ünï'
    assert result.members == ('Sch "ema".x.New "N". ünï_a', 'Sch "ema".x.New "N". ünï_other "part"')
    old, new = q(schema, table), '"Sch ""ema"".x"."New ""N"". ünï"'
    assert except_both_ways(parts, old, new) == (0, 0)
    original, copy = definition(parts, old), definition(parts, new)
    for key in ("columns", "constraints", "indexes", "tree"):
        assert copy[key] == original[key], key
    assert parts.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'x'") == [(0,)]


def test_a_partitioned_table_without_partitions_backs_up_and_restores(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    tgt.execute("CREATE TABLE public.empty_tree (id int NOT NULL, v text) PARTITION BY RANGE (id)")
    entry = backups.backup(rt, admin, "tgt", "public", "empty_tree")
    assert entry.partitioned and entry.row_count == 0 and len(entry.members or []) == 1
    assert backups.verify(rt, admin, entry.id).ok
    assert backups.preview(rt, admin, entry.id) == (("id", "v"), [])
    result = backups.restore(rt, admin, entry.id, into="empty_copy")
    assert result.rows == 0 and result.members == ()
    assert (
        definition(tgt, "public.empty_copy")["tree"] == definition(tgt, "public.empty_tree")["tree"]
    )
