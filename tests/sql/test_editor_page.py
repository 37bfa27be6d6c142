"""AppTest journeys of the SQL editor and the History page, from the real entrypoint.

The Ace editor is a custom component AppTest cannot type into, so tests put the text where the
component would (`st.session_state["ed_text"]`) and press the page's own Run / Explain buttons;
confirmation dialogs are answered through `ed_confirm_answer`, as the dialog's buttons do.
Statements run in a worker thread: `settle` waits for it and reruns the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from petcare_dba.ui.components.text import as_read
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_engine import Target, target, wait_for  # noqa: F401
from tests.fix_ui import sign_in

EDITOR = "pages/sql_editor.py"


def rerun(at: AppTest) -> AppTest:
    """Rerun the page with the sidebar's connection choice in place.

    AppTest drops the sidebar after the first rerun (a known quirk), which also drops the
    connection picker's widget state; the tests set it the way the widget would.
    """
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.session_state["connection"] = "tgt"
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def settle(at: AppTest, timeout: float = 20.0) -> AppTest:
    """Wait for the editor's worker job to finish, then rerun so the page shows its outcome."""
    deadline = time.monotonic() + timeout
    while True:
        job = at.session_state["ed_job"] if "ed_job" in at.session_state else None
        if job is None or job.done:
            break
        assert time.monotonic() < deadline, "the statement did not finish"
        time.sleep(0.05)
    return rerun(at)


def editor(
    app: Callable[[], AppTest], user: str = "admin", password: str = ADMIN_PASSWORD
) -> AppTest:
    at = sign_in(app(), user, password)
    at.switch_page(EDITOR)
    return rerun(at)


def press(at: AppTest, key: str, sql: str | None = None) -> AppTest:
    if sql is not None:
        at.session_state["ed_text"] = sql
    return settle(click(at, key))


def test_run_shows_rows_with_types_count_and_time(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(editor(app), "ed_run", "SELECT id, note FROM t ORDER BY id")
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["id", "note"]
    assert frame["note"].tolist() == ["one", "two", "three"]
    captions = " ".join(c.value for c in at.caption)
    assert "3 rows" in captions and "id: int4" in captions and "note: text" in captions
    assert any("SELECT 3" in m.value and " ms" in m.value for m in at.markdown)


def test_truncated_result_says_so_and_fetch_more_reruns_with_a_larger_cap(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PETCARE_MAX_ROWS", "5")  # read when the app starts its runtime
    at = press(editor(app), "ed_run", "SELECT g FROM generate_series(1, 12) g")
    assert len(at.dataframe[0].value) == 5
    assert any("max_rows (5)" in as_read(w.value) for w in at.warning)
    at = settle(click(at, "ed_more_0"))
    assert len(at.dataframe[0].value) == 10


def test_error_shows_sqlstate_hint_and_marks_the_position(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(editor(app), "ed_run", "SELECT id,\n  nope FROM t")
    assert any("nope" in e.value for e in at.error)
    texts = [x.value for x in at.text]
    assert "sqlstate: 42703" in texts
    marked = [c.value for c in at.code if "^" in c.value]
    assert marked and "-- line 2" in marked[0] and marked[0].splitlines()[1] == "  nope FROM t"


def test_syntax_error_is_reported_before_anything_runs(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(editor(app), "ed_run", "SELEC 1")
    assert at.error and "syntax" in at.error[0].value.lower()


def test_destructive_statement_waits_for_confirmation_and_decline_is_audited(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    rt: Runtime,
    admin: Actor,
) -> None:
    at = press(editor(app), "ed_run", "DELETE FROM t")
    pending = at.session_state["ed_confirm"]
    assert pending["objects"] == ["t"] and "every row" in pending["reason"]
    assert len(target.table()) == 3  # nothing ran
    at.session_state["ed_confirm_answer"] = "no"
    at = settle(rerun(at))
    assert len(target.table()) == 3
    assert at.session_state["ed_confirm"] is None
    events = audit.recent(rt.store, admin, action="sql.execute")
    assert any(e.outcome == "confirm" for e in events)
    assert any(e.outcome == "cancelled" and (e.detail or {}).get("declined") for e in events)
    assert not any(e.outcome == "refused" for e in events)  # cancelled is not refused (issue 19)
    assert [h.outcome for h in engine.history(rt, admin)][:1] == ["cancelled"]


def test_confirmed_destructive_statement_runs(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(editor(app), "ed_run", "DELETE FROM t")
    assert at.session_state["ed_confirm"]["objects"] == ["t"]
    at.session_state["ed_confirm_answer"] = "yes"
    at = settle(rerun(at))
    assert target.table() == []
    assert any("DELETE 3" in m.value for m in at.markdown)


def test_viewer_is_refused_with_the_rule(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    make_user("vera", "viewer")
    at = press(editor(app, "vera", USER_PASSWORD), "ed_run", "DELETE FROM t WHERE id = 1")
    assert at.error and "viewer may run read-only statements only" in as_read(at.error[0].value)
    shown = as_read(at.error[0].value).replace("*", "").lower()
    assert not shown.startswith("refused: refused")  # the title says it once
    assert len(target.table()) == 3


def test_draft_comes_back_after_logout(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    press(editor(app), "ed_run", "SELECT 42 AS answer")
    again = editor(app)  # a new browser session after logout / restart
    assert again.session_state["ed_text"] == "SELECT 42 AS answer"


def test_sql_handed_over_by_another_page_is_opened_once(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = editor(app)
    at.session_state["editor_sql"] = "SELECT 'from advisor'"
    rerun(at)
    assert at.session_state["ed_text"] == "SELECT 'from advisor'"
    assert "editor_sql" not in at.session_state
    at.session_state["ed_text"] = "SELECT 'edited'"
    rerun(at)
    assert at.session_state["ed_text"] == "SELECT 'edited'"


def test_cancel_stops_a_long_statement_and_is_audited(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    rt: Runtime,
    admin: Actor,
) -> None:
    at = editor(app)
    at.session_state["ed_text"] = "SELECT pg_sleep(30)"
    click(at, "ed_run")
    active = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'petcare-dba/admin/%%'"
        " AND state = 'active' AND datname = current_database()"  # not other tests' backends
    )
    wait_for(lambda: target.rows(active)[0][0] == 1)
    started = time.monotonic()
    at = settle(click(at, "ed_cancel"), timeout=5)
    assert time.monotonic() - started < 2.5
    assert target.rows(active)[0][0] == 0
    assert at.error and "cancelled" in at.error[0].value
    events = audit.recent(rt.store, admin, action="sql.execute")
    assert events[0].outcome == "cancelled"
    at = press(at, "ed_run", "SELECT 1 AS still_usable")
    assert at.dataframe[0].value["still_usable"].tolist() == [1]


def test_explain_shows_a_plan_tree_with_the_costliest_node_marked(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
) -> None:
    at = press(editor(app), "ed_explain", "SELECT * FROM t WHERE id > 1 ORDER BY note")
    plan = at.dataframe[0].value
    nodes = plan["Node"].tolist()
    assert any("Sort" in n for n in nodes) and any("Scan" in n for n in nodes)
    assert "HOT" in plan["Hot"].tolist()
    assert any('"Node Type"' in c.value for c in at.code)


def test_history_lists_runs_and_reopens_one_in_the_editor(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    rt: Runtime,
    admin: Actor,
) -> None:
    engine.run(rt, admin, "tgt", "SELECT 'remember me'")
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["connection"] = "tgt"
    at.switch_page("pages/history.py").run()
    assert not at.exception, at.exception
    assert "SELECT 'remember me'" in at.dataframe[0].value["SQL"].tolist()
    at.text_input(key="hist_search").input("nothing like this").run()
    assert at.info  # no match
    at.text_input(key="hist_search").input("remember").run()
    click(at, "hist_open")
    if "ed_text" not in at.session_state:  # AppTest may not follow st.switch_page by itself
        assert at.session_state["editor_sql"] == "SELECT 'remember me'"
        at.switch_page(EDITOR)
        rerun(at)
    assert at.session_state["ed_text"] == "SELECT 'remember me'"


@pytest.mark.parametrize("outcome", ["error", "ok"])
def test_history_filters_by_outcome(
    app: Callable[[], AppTest],
    target: Target,  # noqa: F811
    rt: Runtime,
    admin: Actor,
    outcome: str,
) -> None:
    engine.run(rt, admin, "tgt", "SELECT 1 AS fine")
    engine.run(rt, admin, "tgt", "SELECT nope")
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["connection"] = "tgt"
    at.switch_page("pages/history.py").run()
    at.selectbox(key="hist_outcome").select(outcome).run()
    assert set(at.dataframe[0].value["Outcome"]) == {outcome}
