"""AppTest: a script is edited in the SQL editor's code component, and side-by-side diffs wrap.

The code component (Ace) is a custom component AppTest cannot type into, so a test sets the
script's text where the component's change handler puts it (`projects_sql_<id>`), as the SQL
editor's tests do with `ed_text`, and presses the page's own Save button. The side-by-side diff
is an HTML table: asserted on its markup (fixed layout, wrapping cells, no horizontal scroll)
and on hostile script text, which must arrive escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import scripts, versions
from petcare_dba.services.runtime import Runtime
from tests.fix_db import USER_PASSWORD
from tests.fix_ui import sign_in

PAGE = "pages/projects.py"
LONG = "SELECT '" + "x" * 600 + "' AS very_long_literal_" + "y" * 200
HOSTILE = (
    "SELECT '<script>alert(1)</script>' AS a, '</td></tr></table><img src=x onerror=alert(2)>'"
    ' AS b, \'" style="position:fixed" onmouseover="alert(3)\' AS c'
)


@pytest.fixture
def olga(rt: Runtime, make_user) -> Actor:  # type: ignore[no-untyped-def]
    return make_user("olga", "analyst")


def _open(app: Callable[[], AppTest]) -> AppTest:
    at = sign_in(app(), "olga", USER_PASSWORD)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _side_by_side(at: AppTest) -> str:
    at.radio(key="projects_diff_mode").set_value("side").run()
    assert not at.exception, at.exception
    [table] = [h.value for h in at.html if "<table" in h.value]
    return str(table)


def test_edit_in_the_code_component_and_save_creates_a_version(
    app: Callable[[], AppTest], olga: Actor, rt: Runtime
) -> None:
    pid = projects.create(rt, olga, "P")
    sid = scripts.save(rt, olga, pid, "q", "SELECT 1", "first").script_id
    at = _open(app)
    editors = [e for e in at.get("component_instance") if "code_editor" in str(e.proto)]
    assert editors, "the script is not edited in the SQL editor's code component"
    assert not [a for a in at.text_area if a.key == f"projects_sql_{sid}"]  # no text area
    assert at.session_state[f"projects_sql_{sid}"] == "SELECT 1"
    at.session_state[f"projects_sql_{sid}"] = "SELECT 2 AS two"  # as the code box would
    at.text_input(key=f"projects_msg_{sid}").input("second")
    at.button(key=f"projects_save_{sid}").click().run()
    assert not at.exception, at.exception
    latest = versions.version(rt, olga, pid, sid)
    assert (latest.version, latest.content, latest.message) == (2, "SELECT 2 AS two", "second")
    at.button(key=f"projects_save_{sid}").click().run()  # unchanged text: no new version
    assert scripts.get(rt, olga, pid, sid).current_version == 2


def test_side_by_side_diff_wraps_long_lines_without_a_scroll_box(
    app: Callable[[], AppTest], olga: Actor, rt: Runtime
) -> None:
    pid = projects.create(rt, olga, "P")
    scripts.save(rt, olga, pid, "q", "SELECT 1\nFROM t")
    scripts.save(rt, olga, pid, "q", f"{LONG}\nFROM t", base_version=1)
    table = _side_by_side(_open(app))
    assert "table-layout:fixed" in table and "width:100%" in table
    cells = re.findall(r'<td style="([^"]*)">', table)
    assert cells and all("white-space:pre-wrap" in c for c in cells)
    assert all("overflow-wrap:anywhere" in c for c in cells)
    assert not re.search(r"overflow(-x)?:\s*(auto|scroll)", table)
    assert "white-space:pre;" not in table and "nowrap" not in table
    assert html.escape(LONG) in table  # the whole line, in one wrapping cell
    assert table.count("<tr data-tag=") == 2
    assert 'data-tag="replace"' in table and 'data-tag="equal"' in table


def test_hostile_script_text_is_shown_as_text_in_every_diff(
    app: Callable[[], AppTest], olga: Actor, rt: Runtime
) -> None:
    pid = projects.create(rt, olga, "P")
    scripts.save(rt, olga, pid, "q", "SELECT 1")
    scripts.save(rt, olga, pid, "q", HOSTILE, base_version=1)
    at = _open(app)
    table = _side_by_side(at)
    assert html.escape(HOSTILE) in table
    for raw in ("<script", "</table><img", "<img", 'onmouseover="alert'):
        assert raw not in table, raw
    # The structure is the module's own: one row of four cells per line, one table.
    assert table.count("<tr data-tag=") == 1
    assert table.count("<td ") == 4 and table.count("</td>") == 4
    assert table.count("<table") == 1 and table.count("</table>") == 1
    at.radio(key="projects_diff_mode").set_value("unified").run()
    assert any(HOSTILE in c.value for c in at.code)  # st.code renders nothing


def test_an_oversized_version_still_diffs_row_by_row(
    app: Callable[[], AppTest], olga: Actor, rt: Runtime
) -> None:
    pid = projects.create(rt, olga, "P")
    huge = "\n".join(f"SELECT {i}, '{'z' * 300}'" for i in range(400))
    scripts.save(rt, olga, pid, "q", "-- start")
    scripts.save(rt, olga, pid, "q", huge, base_version=1)
    table = _side_by_side(_open(app))
    assert table.count("<tr data-tag=") == 400 and html.escape(huge.splitlines()[-1]) in table
