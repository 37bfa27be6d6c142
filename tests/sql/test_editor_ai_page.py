"""The assistant from the rest of the app: editor "Write SQL for …" and the advisor's AI button."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services.actor import Actor
from petcare_dba.ui import i18n
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_gemini import AiTarget, FakeModelServer, ai_target, fake_gemini  # noqa: F401
from tests.fix_ui import sign_in

en = lambda key, **kw: i18n.translate("en", key, **kw)  # noqa: E731


@pytest.fixture
def ai_env(monkeypatch: pytest.MonkeyPatch, fake_gemini: FakeModelServer) -> FakeModelServer:  # noqa: F811
    for key, value in {
        "PETCARE_AI_PROVIDER": "gemini",
        "PETCARE_GEMINI_API_KEY": "test",
        "PETCARE_GEMINI_BASE_URL": fake_gemini.url,
        "PETCARE_AI_RETRY_DELAY_S": "0.01",
    }.items():
        monkeypatch.setenv(key, value)
    return fake_gemini


def test_write_sql_puts_the_proposal_in_the_editor_without_running_it(
    ai_env: FakeModelServer,
    app: Callable[[], AppTest],
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
) -> None:
    ai_env.reply({"text": "Here you are:\n```sql\nSELECT count(*) FROM t\n```"})
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/sql_editor.py")
    at.session_state["connection"] = "tgt"  # AppTest drops the picker's state on page switch
    at.run()
    assert not at.exception
    at.text_input(key="ed_ai_request").input("how many rows does t have")
    at.session_state["connection"] = "tgt"  # (the AppTest quirk again, before every run)
    at.run()
    at.button(key="ed_ai_write").click()
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception
    assert at.session_state["ed_text"] == "SELECT count(*) FROM t"
    assert "ed_job" not in at.session_state or at.session_state["ed_job"] is None


def test_advisor_finding_can_be_handed_to_the_assistant(
    ai_env: FakeModelServer,
    app: Callable[[], AppTest],
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
) -> None:
    ai_target.execute("CREATE TABLE no_key (v int)")  # a finding: a table without a primary key
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/advisor.py")
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception
    at.session_state["connection"] = "tgt"
    at.button(key="adv_run").click().run()  # the page runs the lints on the click only
    assert not at.exception
    at.session_state["connection"] = "tgt"
    # The findings' order is the advisor's (levels, then names): other lints of the fresh
    # database may come first, so open the one about no_key.
    (key,) = [b.key for b in at.expander if "no_key" in b.label.replace("\\", "")][:1]
    index = key.removeprefix("adv_open_")
    at.session_state[f"adv_open_{index}"] = True  # a finding's buttons are drawn once opened
    at.run()
    at.button(key=f"adv_ai_{index}").click()
    at.session_state["connection"] = "tgt"
    at.run()
    assert not at.exception
    sent = [str(r) for r in ai_env.generate_requests()]  # the assistant page asked the model
    assert any("Explain this advisor finding" in body and "no_key" in body for body in sent)
