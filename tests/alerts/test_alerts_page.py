"""The alerts page from the real entrypoint: a webhook shows its signing secret once, a silence
and a maintenance window are added and listed, the outbox tab lists deliveries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import channels, outbox, silences
from petcare_dba.services.runtime import Runtime
from tests.alerts.fix_receivers import Signed
from tests.alerts.test_alert_delivery import fire
from tests.fix_monitoring import Target, target_db
from tests.monitoring.test_monitoring_page import _open

__all__ = ["target_db"]


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
        at = _open(app, "pages/alerts.py")
        at.text_input(key="chan_name").input("ops")
        at.text_input(key="chan_secret").input(receiver.url)
        _submit(at, "alert_channel_form")
        (shown,) = [c.value for c in at.code]  # the signing secret, once
        assert len(shown) >= 32 and shown not in str(channels.list_channels(rt, admin))
        at.selectbox(key="sil_rule").select("xid-age")
        at.text_input(key="sil_reason").input("wraparound drill")
        _submit(at, "alert_silence_form")
        (silence,) = silences.list_silences(rt, admin)
        assert silence.rule == "xid-age" and silence.reason == "wraparound drill"
        at.text_input(key="mw_conn").input("tgt")
        at.text_input(key="mw_reason").input("patching")
        _submit(at, "alert_window_form")
        (window,) = silences.list_maintenance(rt, admin)
        assert window.connection == "tgt" and not window.recurring
        receiver.secret = shown
        fire(rt, {"app_failed_logins_5m": 50.0})
        at = _open(app, "pages/alerts.py")  # the page wakes the delivery thread
        assert receiver.got.get(timeout=10)["rule"] == "failed-login-burst"
        at = _open(app, "pages/alerts.py")
        cells = {str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()}
        assert "delivered" in cells
        assert "wraparound drill" in " ".join(m.value for m in at.markdown)
        assert [r.state for r in outbox.rows(rt, admin)] == ["delivered"]
    finally:
        receiver.close()
