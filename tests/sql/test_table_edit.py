"""Inline table edits (issue 19): grid changes become UPDATE/INSERT/DELETE through the engine.

On a real target: the statements quote hostile identifiers and keep SQL-looking values as
values; a viewer's forged edit is refused by the service and audited; a composite primary key
names each row whole; a row changed by someone else since it was read is reported, not
overwritten; views and tables without a primary key are refused; every applied statement has
the engine's audit pair, and a cancelled edit is 'cancelled' in history and audit.
"""

from __future__ import annotations

import pytest

from petcare_dba.errors import PetcareError, Refused, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine, table_edit
from petcare_dba.services.sql.table_edit import EditPlan, RowChange
from tests.fix_engine import SEED, Target, events, target

__all__ = ["target"]  # the fixture is used by name

HOSTILE_TABLE = 'we"ird; DROP TABLE t; --'
HOSTILE_KEY = 'i"d;'
HOSTILE_COLUMN = "no\"te'); DELETE FROM t; --"
SQL_VALUE = "'); DROP TABLE t; -- \\ %s $$ E'x'"


def test_changes_from_the_data_editor_state() -> None:
    rows = [{"id": "1", "note": "one"}, {"id": "2", "note": None}, {"id": "3", "note": "x"}]
    state = {
        "edited_rows": {"1": {"note": ""}, 0: {"note": "one"}},  # row 0 edited back: no change
        "added_rows": [{"id": "9", "note": None}],
        "deleted_rows": [2],
    }
    changes = table_edit.changes_from(rows, ["id"], state)
    assert changes == [
        RowChange("delete", key={"id": "3"}),
        # NULL -> the empty string is a change: the two stay apart
        RowChange("update", {"id": "2"}, {"note": ""}, {"note": None}),
        RowChange("insert", values={"id": "9"}),
    ]


def test_analyst_edit_runs_through_the_engine_with_its_audit(
    rt: Runtime, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    analyst: Actor = make_user("ana", "analyst")
    changes = [
        RowChange("update", {"id": "1"}, {"note": "uno"}, {"note": "one"}),
        RowChange("insert", values={"id": "4", "note": None}),
        RowChange("delete", key={"id": "3"}),
    ]
    edit = table_edit.plan(rt, analyst, "tgt", "public", "t", changes)
    assert edit.statements == (
        """UPDATE "public"."t" SET "note" = 'uno' WHERE "id" = '1' """
        """AND "note"::pg_catalog.text IS NOT DISTINCT FROM 'one'""",
        """INSERT INTO "public"."t" ("id", "note") VALUES ('4', NULL)""",
        """DELETE FROM "public"."t" WHERE "id" = '3'""",
    )
    outcome = table_edit.apply(rt, analyst, edit)
    assert outcome.applied == 3 and outcome.conflicts == ()
    assert target.table() == [(1, "uno"), (2, "two"), (4, None)]
    rows = events(rt, analyst)
    assert sorted(e.outcome for e in rows) == ["intent"] * 3 + ["ok"] * 3  # one pair each
    done = [e for e in rows if e.outcome == "ok"]
    assert [e.rows_affected for e in done] == [1, 1, 1]
    assert all(e.detail.get("confirmed") is True for e in rows if e.outcome == "intent")
    texts = [h.sql_text for h in engine.history(rt, analyst)]
    assert any(text.startswith('UPDATE "public"."t"') for text in texts)


def test_hostile_identifiers_and_sql_looking_values_stay_names_and_values(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    target.execute(
        f'CREATE TABLE "{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}" '
        f'("{HOSTILE_KEY.replace(chr(34), chr(34) * 2)}" int PRIMARY KEY, '
        f'"{HOSTILE_COLUMN.replace(chr(34), chr(34) * 2)}" text)'
    )
    target.execute(
        f'INSERT INTO "{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}" VALUES (1, %s)', ("a",)
    )
    changes = [
        RowChange("update", {HOSTILE_KEY: "1"}, {HOSTILE_COLUMN: SQL_VALUE}, {HOSTILE_COLUMN: "a"}),
        RowChange("insert", values={HOSTILE_KEY: "2", HOSTILE_COLUMN: "'; SELECT pg_sleep(9); --"}),
    ]
    edit = table_edit.plan(rt, admin, "tgt", "public", HOSTILE_TABLE, changes)
    outcome = table_edit.apply(rt, admin, edit)
    assert outcome.applied == 2
    stored = target.rows(
        f'SELECT * FROM "{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}" ORDER BY 1'
    )
    assert stored == [(1, SQL_VALUE), (2, "'; SELECT pg_sleep(9); --")]
    assert target.table() == SEED  # nothing ran against t
    # A value that looks like a number but is not one for an int key is an error, rolled back.
    bad = [
        RowChange(
            "update", {HOSTILE_KEY: "1 OR 1=1"}, {HOSTILE_COLUMN: "z"}, {HOSTILE_COLUMN: SQL_VALUE}
        )
    ]
    with pytest.raises(PetcareError) as info:
        table_edit.apply(rt, admin, table_edit.plan(rt, admin, "tgt", "public", HOSTILE_TABLE, bad))
    assert info.value.sqlstate == "22P02"


def test_a_viewer_forging_an_edit_is_refused_by_the_service_and_audited(
    rt: Runtime, make_user, target: Target
) -> None:  # type: ignore[no-untyped-def]
    viewer: Actor = make_user("vera", "viewer")
    change = RowChange("update", {"id": "1"}, {"note": "hacked"}, {"note": "one"})
    with pytest.raises(Refused, match="analyst role"):
        table_edit.plan(rt, viewer, "tgt", "public", "t", [change])
    # A hand-made plan with its own statements: apply composes again and refuses.
    forged = EditPlan("tgt", "public", "t", (change,), ("DROP TABLE t",))
    with pytest.raises(Refused):
        table_edit.apply(rt, viewer, forged)
    assert target.table() == SEED
    refused = audit.recent(rt.store, viewer, action="table.edit")
    assert len(refused) == 2 and {e.outcome for e in refused} == {"refused"}
    assert refused[0].target == "tgt:public.t"
    assert events(rt, viewer) == []  # nothing reached the engine


def test_a_composite_primary_key_names_each_row_whole(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    target.execute("CREATE TABLE visit (pet int, day date, note text, PRIMARY KEY (day, pet))")
    target.execute(
        "INSERT INTO visit VALUES (1, '2024-01-01', 'a'), (1, '2024-01-02', 'b'), "
        "(2, '2024-01-01', 'c')"
    )
    detail_key = ["day", "pet"]  # key order, not column order
    changes = [
        RowChange("update", {"pet": "1", "day": "2024-01-02"}, {"note": "B"}, {"note": "b"}),
        RowChange("delete", key={"pet": "2", "day": "2024-01-01"}),
    ]
    edit = table_edit.plan(rt, admin, "tgt", "public", "visit", changes)
    assert "\"pet\" = '1' AND \"day\" = '2024-01-02'" in edit.statements[0]
    assert table_edit.apply(rt, admin, edit).applied == 2
    assert target.rows("SELECT pet, day::text, note FROM visit ORDER BY 2, 1") == [
        (1, "2024-01-01", "a"),
        (1, "2024-01-02", "B"),
    ]
    half = [RowChange("delete", key={"pet": "1"})]
    with pytest.raises(ValidationError, match="whole primary key"):
        table_edit.plan(rt, admin, "tgt", "public", "visit", half)
    describe = table_edit.explorer.describe(rt, admin, "tgt", "public", "visit")
    assert table_edit.primary_key(describe) == detail_key


def test_a_row_changed_by_someone_else_is_reported_not_overwritten(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    changes = [
        RowChange("update", {"id": "1"}, {"note": "mine"}, {"note": "one"}),
        RowChange("update", {"id": "2"}, {"note": "also mine"}, {"note": "two"}),
    ]
    edit = table_edit.plan(rt, admin, "tgt", "public", "t", changes)
    target.execute("UPDATE t SET note = 'theirs' WHERE id = 1")  # someone else, meanwhile
    outcome = table_edit.apply(rt, admin, edit)
    assert outcome.conflicts == (changes[0],) and outcome.applied == 1
    assert target.table() == [(1, "theirs"), (2, "also mine"), (3, "three")]


def test_views_tables_without_a_key_and_unknown_columns_are_refused(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    target.execute("CREATE TABLE loose (a int, b text)")
    target.execute("CREATE VIEW tv AS SELECT * FROM t")
    change = RowChange("insert", values={"a": "1"})
    with pytest.raises(Refused, match="no primary key"):
        table_edit.plan(rt, admin, "tgt", "public", "loose", [change])
    with pytest.raises(Refused, match="is a view"):
        table_edit.plan(rt, admin, "tgt", "public", "tv", [change])
    with pytest.raises(ValidationError, match="no column"):
        table_edit.plan(rt, admin, "tgt", "public", "t", [RowChange("insert", values={"x;": "1"})])
    assert [e.outcome for e in audit.recent(rt.store, admin, action="table.edit")] == [
        "refused"
    ] * 2


def test_a_cancelled_edit_is_cancelled_not_refused(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    change = RowChange("delete", key={"id": "1"})
    edit = table_edit.plan(rt, admin, "tgt", "public", "t", [change])
    table_edit.cancel(rt, admin, edit)
    assert target.table() == SEED
    assert [e.outcome for e in events(rt, admin)] == ["cancelled"]
    assert [h.outcome for h in engine.history(rt, admin)] == ["cancelled"]
