"""AppTest of the Schedules page from the real entrypoint: add a backup schedule with the form,
run it now and read its history; a viewer's backup schedule is refused on the page; every
string of the page exists in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import schedules
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_engine import Target, target  # noqa: F401
from tests.fix_ui import sign_in
from tests.schedules.fix_schedules import make_due

UI = Path(__file__).resolve().parents[2] / "petcare_dba" / "ui"
MINE = [UI / "pages" / "schedules.py", UI / "components" / "schedules.py"]


def test_every_string_of_the_page_exists_in_both_languages() -> None:
    used = {"nav.schedules"} | {f"schedules.kind.{k}" for k in schedules.KINDS}
    for path in MINE:
        used |= set(re.findall(r't\(\s*"(schedules\.[a-z_.]+)"', path.read_text("utf-8")))
    used |= {"schedules.pause", "schedules.resume"}
    for lang in i18n.LANGUAGES:
        assert sorted(k for k in used if k not in i18n.catalogue(lang)) == [], lang


def _open(app: Callable[[], AppTest], user: str, password: str) -> AppTest:
    at = sign_in(app(), user, password)
    at.switch_page("pages/schedules.py").run()
    assert not at.exception, at.exception
    return at


def _tab(at: AppTest, tab: str) -> AppTest:
    """Open a tab of the page (only the open tab is drawn)."""
    at.session_state["sch_tab"] = i18n.translate("en", f"schedules.tab.{tab}")
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_add_a_backup_schedule_run_it_now_and_see_its_history(
    app: Callable[[], AppTest],
    rt: Runtime,
    admin: Actor,
    target: Target,  # noqa: F811
) -> None:
    at = _open(app, "admin", ADMIN_PASSWORD)
    assert any("No schedules" in i.value for i in at.info)
    _tab(at, "add")
    at.text_input(key="sch_name").input("nightly")
    at.text_input(key="sch_table").input("t")
    at.text_input(key="sch_cron").input("15 2 * * *")
    at.text_input(key="sch_tz").input("America/Sao_Paulo")
    _submit(at)
    assert any("nightly" in s.value for s in at.success), [e.value for e in at.error]
    (made,) = schedules.list_schedules(rt, admin)
    assert (made.kind, made.what, made.tz, made.keep_count) == (
        "backup",
        "public.t",
        "America/Sao_Paulo",
        7,
    )
    _tab(at, "list")
    at.button(key=f"sch_run_{made.id}").click().run()
    assert not at.exception, at.exception
    assert any("Run finished" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert list(history["Status"]) == ["ok"] and list(history["Trigger"]) == ["manual"]


@pytest.mark.slow
def test_a_viewer_s_backup_schedule_is_refused_on_the_page(
    app: Callable[[], AppTest],
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
) -> None:
    make_user("vera", "viewer")
    at = _open(app, "vera", USER_PASSWORD)
    _tab(at, "add")
    at.text_input(key="sch_name").input("mine")
    at.text_input(key="sch_table").input("t")
    _submit(at)
    assert any("dba" in e.value for e in at.error)
    assert schedules.list_schedules(rt, admin) == []


def test_a_failed_run_s_error_is_said_in_portuguese_in_the_history(
    app: Callable[[], AppTest],
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    target: Target,  # noqa: F811
) -> None:
    """Issue 19: a run's error is stored in English (the CLI prints it); the page reads it back
    as the message it was and says it in pt-BR. A real failure: the table is gone."""
    sid = schedules.add(
        rt, admin, name="nightly-t", kind="backup", cron_expr="0 3 * * *", tz="UTC",
        connection="tgt", schema="public", table="t",
    )  # fmt: skip
    with psycopg.connect(target.url, autocommit=True) as conn:
        conn.execute("DROP TABLE t")
    make_due(meta_url, sid)
    assert schedules.run_due(rt) == {"ok": 0, "failed": 1}
    (run,) = schedules.history(rt, admin, sid)
    assert run.status == "failed" and getattr(run.error, "key", "")  # a catalogue message
    english = str(run.error)
    portuguese = i18n.said("pt-BR", run.error)
    assert portuguese != english
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["lang"] = "pt-BR"
    at.switch_page("pages/schedules.py").run()
    assert not at.exception, at.exception
    at.session_state["sch_tab"] = i18n.translate("pt-BR", "schedules.tab.list")
    at.run()
    cells = {str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()}
    assert portuguese in cells and english not in cells
