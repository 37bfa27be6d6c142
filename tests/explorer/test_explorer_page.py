"""AppTest journeys of the Explorer and Backups pages from the real entrypoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_explorer import Target, tgt  # noqa: F401
from tests.fix_ui import sign_in

pytestmark = pytest.mark.slow


def go(at: AppTest) -> AppTest:
    """Rerun with the connection chosen: AppTest reruns may come back without the sidebar,
    and Streamlit then forgets the picker's value (the browser journey covers the picker)."""
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    return go(at)


def test_explorer_lists_searches_and_shows_detail_with_ddl_and_data(
    app: Callable[[], AppTest],
    admin: Actor,
    tgt: Target,  # noqa: F811
) -> None:
    tgt.execute(
        "CREATE TABLE public.owners (id int PRIMARY KEY, name text);"
        "ALTER TABLE public.all_types ADD COLUMN owner_id int REFERENCES public.owners (id);"
        "COMMENT ON COLUMN public.owners.name IS 'tutor name'"
    )
    at = _open(sign_in(app(), "admin", ADMIN_PASSWORD), "pages/explorer.py")
    assert at.title[0].value == "Explorer"
    names = list(at.dataframe[0].value["Name"])
    assert "all_types" in names and "owners" in names
    at.text_input(key="explorer_search").input("tutor")
    go(at)
    hits = at.dataframe[0].value
    assert list(hits["Name"]) == ["owners"] and list(hits["Matched"]) == ["comment"]
    at.selectbox(key="explorer_table").select("public.owners")
    go(at)
    assert not at.exception, at.exception
    assert any("CREATE TABLE public.owners" in c.value for c in at.code)
    at.text_input(key="explorer_search").input("")
    go(at)
    at.selectbox(key="explorer_table").select("public.all_types")
    go(at)
    at.selectbox(key="explorer_sort").select("id")
    go(at)
    at.checkbox(key="explorer_desc").check()
    go(at)
    assert not at.exception, at.exception
    data = next(df.value for df in at.dataframe if "c_text" in df.value.columns)
    assert list(data["id"][:2]) == ["1000", "40"]


def test_backups_page_backs_up_verifies_and_restores(
    app: Callable[[], AppTest],
    admin: Actor,
    rt: Runtime,
    tgt: Target,  # noqa: F811
) -> None:
    at = _open(sign_in(app(), "admin", ADMIN_PASSWORD), "pages/backups.py")
    at.selectbox(key="backups_table").select("public.all_types")
    go(at)
    at.button(key="backups_run").click()
    go(at)
    assert not at.exception, at.exception
    assert at.success and "41" in at.success[0].value
    [entry] = backups.list_backups(rt, admin, "tgt")
    at.button(key="backups_verify").click()
    go(at)
    assert any("verified" in s.value for s in at.success)
    at.button(key="backups_restore").click()
    go(at)
    assert not at.exception, at.exception
    assert tgt.execute(f"SELECT count(*) FROM public.all_types_restored_{entry.id}") == [(41,)]
    # Replace without typing the table name does nothing.
    tgt.execute("DELETE FROM public.all_types WHERE id > 5")
    at.radio(key="backups_mode").set_value("replace")
    go(at)
    at.button(key="backups_restore").click()
    go(at)
    assert at.warning and tgt.execute("SELECT count(*) FROM public.all_types") == [(5,)]
    at.text_input(key="backups_confirm").input("public.all_types")
    go(at)
    at.button(key="backups_restore").click()
    go(at)
    assert tgt.execute("SELECT count(*) FROM public.all_types") == [(41,)]


def test_analysts_see_no_backups_page(app: Callable[[], AppTest], make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("ana", "analyst")
    at = sign_in(app(), "ana", USER_PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/backups.py")
