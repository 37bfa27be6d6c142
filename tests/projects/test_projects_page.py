"""AppTest journeys of the Projects page from the real entrypoint.

Create a project, invite a member, save two versions, diff, revert, run and read the history;
a stale save shows the conflict diff and lets the user choose; viewers get no write widgets.
Server state is asserted through the services (AppTest trees can lag behind callbacks).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import runs as project_runs
from petcare_dba.services.projects import scripts, versions
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.fix_db import USER_PASSWORD
from tests.fix_engine import Target, target
from tests.fix_ui import sign_in

__all__ = ["target"]
PAGE = "pages/projects.py"


@pytest.fixture
def people(rt: Runtime, make_user) -> dict[str, Actor]:  # type: ignore[no-untyped-def]
    return {
        n: make_user(n, r)
        for n, r in (("olga", "analyst"), ("vera", "viewer"), ("xavier", "analyst"))
    }


def _open(app: Callable[[], AppTest], user: str) -> AppTest:
    at = sign_in(app(), user, USER_PASSWORD)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _tab(at: AppTest, tab: str) -> None:
    """Open a tab of the project (a click on it reruns the page with that tab drawn)."""
    at.session_state["projects_tab"] = i18n.translate("en", f"projects.tab_{tab}")
    at.run()
    assert not at.exception, at.exception


def _button(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def test_journey_create_invite_save_diff_revert_run_history(
    app: Callable[[], AppTest], people: dict[str, Actor], rt: Runtime, target: Target
) -> None:
    olga, vera = people["olga"], people["vera"]
    at = _open(app, "olga")
    at.text_input(key="projects_new_name").input("Pets")
    at.text_area(key="projects_new_desc").input("pet counts")
    at.button[0].click().run()  # the form's submit button comes first on the page
    assert not at.exception, at.exception
    [project] = projects.list_projects(rt, olga)
    assert (project.name, project.description) == ("Pets", "pet counts")
    _tab(at, "members")  # only the open tab is drawn
    at.selectbox(key="projects_invite_user").select("vera")
    at.selectbox(key="projects_invite_role").select("viewer")
    _button(at, "projects_invite")
    assert {m.username: m.role for m in projects.members(rt, olga, project.id)}["vera"] == "viewer"
    _tab(at, "scripts")
    at.text_input(key="projects_new_script").input("count")
    at.session_state["projects_sql_0"] = "SELECT count(*) AS n FROM t"  # as the code box would
    at.text_input(key="projects_msg_0").input("first")
    _button(at, "projects_save_0")
    script = scripts.get(rt, olga, project.id, "count")
    assert script.current_version == 1
    at.run()
    at.session_state[f"projects_sql_{script.id}"] = "SELECT count(*) AS n FROM t WHERE id > 1"
    _button(at, f"projects_save_{script.id}")
    assert scripts.get(rt, olga, project.id, "count").current_version == 2
    at.run()
    diff = "\n".join(c.value for c in at.code)
    assert (
        "-SELECT count(*) AS n FROM t" in diff
        and "+SELECT count(*) AS n FROM t WHERE id > 1" in diff
    )
    at.selectbox(key="projects_revert_to").select(1)
    _button(at, "projects_revert")
    latest = versions.version(rt, vera, project.id, "count")
    assert (latest.version, latest.content) == (3, "SELECT count(*) AS n FROM t")
    at.run()
    at.selectbox(key="projects_run_connection").select("tgt")
    _button(at, "projects_run")
    runs = project_runs.runs(rt, vera, project.id, "count")
    assert [(r.version, r.username, r.outcome) for r in runs] == [(3, "olga", "ok")]
    at.run()
    assert not at.exception
    assert any("3" in str(df.value) for df in at.dataframe)  # the run's result (3 rows)


def test_a_stale_save_shows_the_diff_and_lets_the_user_choose(
    app: Callable[[], AppTest], people: dict[str, Actor], rt: Runtime
) -> None:
    olga = people["olga"]
    pid = projects.create(rt, olga, "P")
    sid = scripts.save(rt, olga, pid, "q", "SELECT 1").script_id
    at = _open(app, "olga")
    assert at.session_state[f"projects_sql_{sid}"] == "SELECT 1"
    scripts.save(rt, olga, pid, "q", "SELECT 2", base_version=1)  # someone else, meanwhile
    at.session_state[f"projects_sql_{sid}"] = "SELECT 1 + 1"
    _button(at, f"projects_save_{sid}")
    assert scripts.get(rt, olga, pid, "q").current_version == 2  # nothing lost, nothing saved
    at.run()
    codes = "\n".join(c.value for c in at.code)
    assert "-SELECT 2" in codes and "+SELECT 1 + 1" in codes
    _button(at, "projects_conflict_mine")
    assert versions.version(rt, olga, pid, "q").content == "SELECT 1 + 1"
    assert scripts.get(rt, olga, pid, "q").current_version == 3


def test_viewers_get_no_write_widgets_and_outsiders_no_project(
    app: Callable[[], AppTest], people: dict[str, Actor], rt: Runtime, target: Target
) -> None:
    olga = people["olga"]
    pid = projects.create(rt, olga, "P")
    projects.add_member(rt, olga, pid, "vera", "viewer")
    sid = scripts.save(rt, olga, pid, "q", "SELECT 1").script_id
    at = _open(app, "vera")
    assert at.code[0].value == "SELECT 1"  # shown, not editable
    assert not at.get("component_instance")
    keys = {b.key for b in at.button}
    assert f"projects_save_{sid}" not in keys and "projects_invite" not in keys
    assert "projects_run" in keys  # viewers read and run
    outsider = _open(app, "xavier")
    assert [i.value for i in outsider.info]
    assert "projects_pick" not in {s.key for s in outsider.selectbox}


def test_save_to_project_widget_adds_a_version_for_the_sql_editor(
    app_env: Runtime, people: dict[str, Actor]
) -> None:
    """The widget the SQL editor embeds: new script first, then a version of it."""
    rt = app_env
    olga = people["olga"]
    pid = projects.create(rt, olga, "P")

    def page(username: str, sql_text: str) -> None:
        from petcare_dba.services.security import users
        from petcare_dba.ui import state
        from petcare_dba.ui.components.projects.save import save_to_project

        who = users.actor_for(state.runtime(), username)
        save_to_project(state.runtime(), who, sql_text)

    at = AppTest.from_function(page, args=("olga", "SELECT 1"), default_timeout=30).run()
    assert not at.exception, at.exception
    at.text_input(key="projects_save_name").input("from editor")
    at.button(key="projects_save_go").click().run()
    assert not at.exception, at.exception
    assert versions.version(rt, olga, pid, "from editor").content == "SELECT 1"
    again = AppTest.from_function(page, args=("olga", "SELECT 2"), default_timeout=30).run()
    sid = scripts.get(rt, olga, pid, "from editor").id
    again.selectbox(key="projects_save_script").select(sid)
    again.button(key="projects_save_go").click().run()
    assert scripts.get(rt, olga, pid, "from editor").current_version == 2
