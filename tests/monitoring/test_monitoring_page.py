"""AppTest of the dashboard, monitoring, advisor and alerts pages from the real entrypoint."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.ui import i18n
from petcare_dba.ui.components.text import as_read
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD, PgServer
from tests.fix_monitoring import (
    Holder,
    Target,
    WebhookReceiver,
    target_db,
    webhook,
)
from tests.fix_ui import sign_in

__all__ = ["target_db", "webhook"]
UI = Path(__file__).resolve().parents[2] / "petcare_dba" / "ui"
MINE = (
    [UI / "pages" / f"{p}.py" for p in ("dashboard", "monitoring", "advisor", "alerts")]
    + sorted((UI / "components").glob("monitoring*.py"))
    + sorted((UI / "components").glob("alerts*.py"))
)
DYNAMIC = {
    "dashboard.area.": (
        "availability",
        "connections",
        "queries",
        "locks",
        "cache",
        "replication",
        "wraparound",
        "disk",
    ),
    "dashboard.level.": ("ok", "warning", "critical", "unknown"),
    "monitoring.order.": ("total", "mean", "calls"),
}


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background collector in the app under test (deterministic stored runs)."""
    monkeypatch.setenv("PETCARE_MONITORING_ENABLED", "false")


def _open(
    app: Callable[[], AppTest],
    page: str,
    user: str = "admin",
    password: str = ADMIN_PASSWORD,
    lang: str | None = None,
    tab: tuple[str, str] | None = None,
) -> AppTest:
    """Sign in and open `page` (on `tab`: (its tabs' key, the tab's catalogue key) — a page
    draws its open tab only)."""
    at = sign_in(app(), user, password)
    at.session_state["connection"] = "tgt"
    if lang:
        at.session_state["lang"] = lang
    if tab:
        at.session_state[tab[0]] = i18n.translate(lang or "en", tab[1])
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Click with the sidebar's connection choice in place (AppTest drops the sidebar, and with
    it the picker's widget state, after the first rerun)."""
    at.session_state["connection"] = "tgt"
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _sample_twice(rt: Runtime, admin: Actor) -> None:
    conn_id = connections.get(rt, admin, "tgt").id
    for _ in range(2):
        collector.sample_connection(rt, collector.system_actor(rt), conn_id, "tgt", force=True)
    collector.app_round(rt, collector.system_actor(rt), force=True)


def test_every_string_of_these_pages_exists_in_both_languages() -> None:
    used: set[str] = set()
    for path in MINE:
        text = path.read_text(encoding="utf-8")
        used |= set(
            re.findall(r't\(\s*"((?:dashboard|monitoring|advisor|alerts)\.[a-z_.]+)"', text)
        )
        used |= {f"monitoring.confirm_{v}" for v in ("cancel", "terminate")}
    for prefix, names in DYNAMIC.items():
        used |= {prefix + n for n in names}
    from petcare_dba.ui.components.monitoring import overview as widgets

    for _, metrics in widgets.CHARTS + widgets.APP_CHARTS:
        used |= {"dashboard.metric." + m for m in metrics}
    used |= {"dashboard.chart." + title for title, _ in widgets.CHARTS + widgets.APP_CHARTS}
    for lang in i18n.LANGUAGES:
        missing = sorted(k for k in used if k.rstrip(".") == k and k not in i18n.catalogue(lang))
        assert missing == [], f"{lang}: {missing}"


def test_dashboard_shows_a_verdict_per_area_and_charts(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target
) -> None:
    _sample_twice(rt, admin)
    at = _open(app, "pages/dashboard.py")
    text = " ".join(m.value for m in at.markdown)
    assert i18n.translate("en", "dashboard.area.connections") in text
    assert "OK — " in text  # in words, with the number
    assert len(at.get("plotly_chart")) == 8


def test_a_dba_cancels_a_running_query_only_after_confirming(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("dora", "dba")
    holder = Holder(target_db.url)
    holder.run_in_background("SELECT pg_sleep(30)")
    try:
        time.sleep(0.5)
        pid = holder.conn.info.backend_pid
        at = _open(app, "pages/monitoring.py", "dora", USER_PASSWORD)
        at.session_state["mon_pid"] = pid
        click(at, "mon_cancel")
        assert at.session_state["mon_pending_signal"] == {"pid": pid, "terminate": False}
        assert holder.thread is not None and holder.thread.is_alive()  # nothing ran yet
        click(at, "mon_confirm_yes")
        holder.thread.join(10)
        assert not holder.thread.is_alive(), "the query was not cancelled"
    finally:
        holder.close()
    actions = [(e.action, e.outcome) for e in audit.recent(rt.store, admin)]
    assert ("monitoring.cancel", "ok") in actions


def test_a_viewer_sees_sessions_but_no_kill_buttons(
    app: Callable[[], AppTest], target_db: Target, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("vera", "viewer")
    at = _open(app, "pages/monitoring.py", "vera", USER_PASSWORD)
    assert at.dataframe and not [b for b in at.button if b.key in ("mon_cancel", "mon_terminate")]


def test_the_advisor_page_stores_a_run_and_opens_a_fix_in_the_editor(
    quiet: None, app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target
) -> None:
    from petcare_dba.services import advisor

    target_db.execute("CREATE TABLE np (x int)")
    at = _open(app, "pages/advisor.py")
    assert advisor.history(rt, admin, "tgt") == []  # opening the page runs nothing
    click(at, "adv_run")
    runs = advisor.history(rt, admin, "tgt")
    assert len(runs) == 1
    labels = [as_read(e.label) for e in at.expander]  # outside text is escaped (issue 14)
    index = next(i for i, label in enumerate(labels) if "public.np" in label)
    at.session_state[f"adv_open_{index}"] = True  # a finding's body is drawn once opened
    at.session_state["connection"] = "tgt"
    at.run()
    click(at, f"adv_edit_{index}")
    fix = "ALTER TABLE public.np ADD PRIMARY KEY (...);"
    handed = [at.session_state[k] for k in ("editor_sql", "ed_text") if k in at.session_state]
    assert fix in handed  # handed over (or already taken up by the editor page)


def test_the_alerts_page_adds_a_webhook_and_sends_a_test(
    app: Callable[[], AppTest],
    rt: Runtime,
    admin: Actor,
    webhook: WebhookReceiver,
    pg: PgServer,
) -> None:
    at = _open(app, "pages/alerts.py", tab=("alerts_tab", "alerts.tab.channels"))
    at.text_input(key="chan_name").input("ops")
    at.text_input(key="chan_secret").input(webhook.url)
    forms = [b for b in at.button if "FormSubmitter:alert_channel_form" in str(b.id)]
    at.session_state["connection"] = "tgt"
    forms[0].click().run()
    assert not at.exception
    from petcare_dba.services.alerts import channels

    assert [c.name for c in channels.list_channels(rt, admin)] == ["ops"]
    at = _open(app, "pages/alerts.py", tab=("alerts_tab", "alerts.tab.channels"))
    click(at, "alert_test_ops")
    assert webhook.wait_for(5, event="test") is not None
    assert at.success


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_the_monitoring_pages_render_in_both_languages(
    app: Callable[[], AppTest], admin: Actor, lang: str, target_db: Target
) -> None:
    for page in (
        "pages/dashboard.py",
        "pages/monitoring.py",
        "pages/advisor.py",
        "pages/alerts.py",
    ):
        at = _open(app, page, lang=lang)
        assert at.title[0].value == i18n.translate(lang, page.split("/")[1][:-3] + ".title")


def test_only_a_dba_is_offered_index_suggestions(
    app: Callable[[], AppTest], target_db: Target, make_user
) -> None:  # type: ignore[no-untyped-def]
    """U2: the what-if plans other users' statements, so viewers and analysts get no button."""
    make_user("vera", "viewer")
    make_user("anna", "analyst")
    make_user("dora", "dba")
    queries = ("mon_tab", "monitoring.tab.queries")
    for user in ("vera", "anna"):
        at = _open(app, "pages/monitoring.py", user, USER_PASSWORD, tab=queries)
        assert not [b for b in at.button if b.key == "mon_suggest"], user
        assert at.selectbox(key="mon_order")  # the queries tab is the one drawn
    at = _open(app, "pages/monitoring.py", "dora", USER_PASSWORD, tab=queries)
    assert [b for b in at.button if b.key == "mon_suggest"]
