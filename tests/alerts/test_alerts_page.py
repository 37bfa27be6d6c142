"""The alerts page from the real entrypoint: a webhook shows its signing secret once, a silence
and a maintenance window are added and listed, the outbox tab lists deliveries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbox, silences
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.alerts.fix_receivers import Signed
from tests.alerts.test_alert_delivery import fire
from tests.fix_monitoring import Target, target_db
from tests.monitoring.test_monitoring_page import _open

__all__ = ["target_db"]


def _tab(at: AppTest, tab: str) -> AppTest:
    """Open one tab of the page (only the open tab is drawn)."""
    at.session_state["connection"] = "tgt"
    at.session_state["alerts_tab"] = i18n.translate("en", f"alerts.tab.{tab}")
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, form: str) -> AppTest:
    at.session_state["connection"] = "tgt"
    (button,) = [b for b in at.button if f"FormSubmitter:{form}" in str(b.id)]
    button.click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_channels_silences_windows_and_deliveries_on_the_alerts_page(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target
) -> None:
    receiver = Signed()
    try:
        at = _open(app, "pages/alerts.py", tab=("alerts_tab", "alerts.tab.channels"))
        at.text_input(key="chan_name").input("ops")
        at.text_input(key="chan_secret").input(receiver.url)
        _submit(at, "alert_channel_form")
        (shown,) = [c.value for c in at.code]  # the signing secret, once
        assert len(shown) >= 32 and shown not in str(channels.list_channels(rt, admin))
        _tab(at, "silences")
        at.selectbox(key="sil_rule").select("xid-age")
        at.text_input(key="sil_reason").input("wraparound drill")
        _submit(at, "alert_silence_form")
        (silence,) = silences.list_silences(rt, admin)
        assert silence.rule == "xid-age" and silence.reason == "wraparound drill"
        _tab(at, "maintenance")
        at.text_input(key="mw_conn").input("tgt")
        at.text_input(key="mw_reason").input("patching")
        _submit(at, "alert_window_form")
        (window,) = silences.list_maintenance(rt, admin)
        assert window.connection == "tgt" and not window.recurring
        receiver.secret = shown
        fire(rt, {"app_failed_logins_5m": 50.0})
        at = _open(app, "pages/alerts.py")  # the page wakes the delivery thread
        assert receiver.got.get(timeout=10)["rule"] == "failed-login-burst"
        at = _open(app, "pages/alerts.py", tab=("alerts_tab", "alerts.tab.outbox"))
        cells = {str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()}
        assert "delivered" in cells
        _tab(at, "silences")
        assert "wraparound drill" in " ".join(m.value for m in at.markdown)
        assert [r.state for r in outbox.rows(rt, admin)] == ["delivered"]
    finally:
        receiver.close()


def test_built_in_rules_are_described_in_the_users_language(
    app: Callable[[], AppTest], rt: Runtime, admin: Actor, target_db: Target
) -> None:
    """Issue 19 (both languages): a built-in rule's description is the app's own text, shown in
    pt-BR from the catalogue; the English catalogue holds exactly the stored text."""
    from petcare_dba.services import alerts

    stored = {r.name: r.description for r in alerts.list_rules(rt, admin)}
    en, pt = i18n.catalogue("en"), i18n.catalogue("pt-BR")
    for name, text in stored.items():
        assert en[f"alerts.rule_help.{name}"] == text, name
        assert pt[f"alerts.rule_help.{name}"] not in ("", text), name
    at = _open(app, "pages/alerts.py", lang="pt-BR", tab=("alerts_tab", "alerts.tab.rules"))
    shown = " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert pt["alerts.rule_help.xid-age"] in shown
    assert stored["xid-age"] not in shown
