"""The explorer's inline row editing in AppTest, from the real entrypoint (issue 19).

The data editor's edits are seeded the way the browser sends them (its edit state in session
state); the page shows the statements, runs them through the engine on "Run and save" or
records a cancelled edit; a viewer finds the switch disabled with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_engine import SEED, Target, target
from tests.fix_ui import sign_in

__all__ = ["target"]  # the fixture is used by name

pytestmark = pytest.mark.slow


def go(at: AppTest) -> AppTest:
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception, at.exception
    return at


def _table_t(at: AppTest) -> AppTest:
    at.switch_page("pages/explorer.py")
    go(at)
    at.selectbox(key="explorer_table").select("public.t")
    return go(at)


def _edit(at: AppTest, state: dict[str, object]) -> AppTest:
    at.toggle(key="explorer_edit").set_value(True)
    go(at)
    (editor,) = at.data_editor
    assert editor.value["note"].tolist() == ["one", "two", "three"]
    at.session_state[editor.key] = state
    at.button(key="explorer_review").click()
    return go(at)


def test_an_edited_cell_is_reviewed_then_saved_through_the_engine(
    app: Callable[[], AppTest], target: Target, rt: Runtime, admin: Actor
) -> None:
    at = _table_t(sign_in(app(), "admin", ADMIN_PASSWORD))
    at = _edit(
        at,
        {"edited_rows": {1: {"note": "deux; DROP TABLE t"}}, "added_rows": [], "deleted_rows": []},
    )
    (shown,) = [c.value for c in at.code if c.value.startswith("UPDATE")]
    assert shown == (
        """UPDATE "public"."t" SET "note" = 'deux; DROP TABLE t' WHERE "id" = '2' """
        """AND "note"::pg_catalog.text IS NOT DISTINCT FROM 'two';"""
    )
    assert target.table() == SEED  # nothing ran before the confirmation
    at.button(key="explorer_apply").click()
    go(at)
    assert any("1 statements ran" in s.value for s in at.success)
    assert target.table() == [(1, "one"), (2, "deux; DROP TABLE t"), (3, "three")]
    assert [h.outcome for h in engine.history(rt, admin)][:1] == ["ok"]


def test_a_cancelled_edit_runs_nothing_and_is_recorded_cancelled(
    app: Callable[[], AppTest], target: Target, rt: Runtime, admin: Actor
) -> None:
    at = _table_t(sign_in(app(), "admin", ADMIN_PASSWORD))
    at = _edit(at, {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]})
    assert any(c.value.startswith('DELETE FROM "public"."t"') for c in at.code)
    at.button(key="explorer_cancel").click()
    go(at)
    assert any("cancelled" in i.value for i in at.info)
    assert target.table() == SEED
    assert [h.outcome for h in engine.history(rt, admin)][:1] == ["cancelled"]


def test_a_viewer_finds_editing_disabled_with_the_reason(
    app: Callable[[], AppTest], target: Target, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("vera", "viewer")
    at = _table_t(sign_in(app(), "vera", USER_PASSWORD))
    assert at.toggle(key="explorer_edit").disabled
    assert any("analyst role" in c.value for c in at.caption)
    assert not at.data_editor
