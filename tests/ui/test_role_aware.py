"""Role-aware pages (issue 19): an action the role cannot take is hidden with the reason, a
forbidden page says why, and the services refuse the role whatever the page shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import PermissionDenied
from petcare_dba.services import advisor, connections, projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.fix_db import USER_PASSWORD, PgServer
from tests.fix_ui import sign_in


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.caption, *at.info, *at.warning, *at.markdown)]
    return "\n".join(str(p) for p in parts)


def test_a_viewer_reads_stored_advisor_runs_but_cannot_start_one(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, pg: PgServer, make_user: Any
) -> None:
    connections.add(rt, admin, "self", pg.admin_url("postgres"), shared=True)
    vera = make_user("vera", "viewer")
    with pytest.raises(PermissionDenied, match="analyst"):
        advisor.run_and_store(rt, vera, "self")
    at = sign_in(app(), "vera", USER_PASSWORD)
    at.switch_page("pages/advisor.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "adv_run"]
    shown = _texts(at)
    assert i18n.translate("en", "advisor.run_needs") in shown
    assert i18n.translate("en", "advisor.no_run_yet") in shown
    advisor.run_and_store(rt, admin, "self")  # the job's run (as the system actor) is shown
    at.run()
    assert not at.exception and not at.info


def test_a_viewer_opens_shared_projects_but_cannot_create_or_import(
    app: Callable[[], AppTest], rt: Runtime, make_user: Any
) -> None:
    vera = make_user("vera", "viewer")
    with pytest.raises(PermissionDenied, match="analyst"):
        projects.create(rt, vera, "mine")
    olga = make_user("olga", "analyst")
    assert projects.create(rt, olga, "team") > 0
    at = sign_in(app(), "vera", USER_PASSWORD)
    at.switch_page("pages/projects.py").run()
    assert not at.exception
    assert i18n.translate("en", "projects.create_needs") in _texts(at)
    assert not [f for f in at.text_input if f.key == "projects_new_name"]


def test_server_addresses_are_shown_to_dbas_only(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, pg: PgServer, make_user: Any
) -> None:
    connections.add(rt, admin, "self", pg.admin_url("postgres"), shared=True)
    for name, role, sees in (
        ("vera", "viewer", False),
        ("ana", "analyst", False),
        ("dan", "dba", True),
    ):
        (conn,) = connections.list_connections(rt, make_user(name, role))
        assert conn.name == "self"
        assert bool(conn.display_url) is sees and ("127.0.0.1" in conn.display_url) is sees
    at = sign_in(app(), "vera", USER_PASSWORD)
    at.switch_page("pages/connections.py").run()
    assert not at.exception
    (table,) = at.dataframe
    url, name = i18n.translate("en", "grid.col.url"), i18n.translate("en", "grid.col.name")
    assert url not in table.value.columns and "self" in list(table.value[name])
    assert i18n.translate("en", "connections.urls_hidden") in _texts(at)


@pytest.mark.browser
def test_a_forbidden_page_says_why_instead_of_falling_back(
    live_app: str, browser: Any, make_user: Any
) -> None:
    make_user("vera", "viewer")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(live_app)
    page.get_by_label("Username").fill("vera")
    page.get_by_role("textbox", name="Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Dashboard").wait_for(timeout=30000)
    page.goto(f"{live_app}/users")
    reason = i18n.translate("en", "nav.forbidden", role="admin", yours="viewer")
    page.get_by_text(reason).wait_for(timeout=30000)
    assert page.get_by_role("link", name=i18n.translate("en", "nav.users")).count() == 0
    context.close()
