"""AppTest of the assistant page from the real entrypoint, against the fake Gemini server.

Ask, see the streamed answer and the tool call, open the proposed SQL in the editor (nothing
runs), resume and delete the conversation; and the disabled state says how to enable it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from petcare_dba.services import assistant
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from petcare_dba.ui.components.text import as_read
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


def test_disabled_assistant_explains_how_to_enable_it(
    app: Callable[[], AppTest], admin: Actor
) -> None:
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/assistant.py").run()
    assert not at.exception
    assert at.info[0].value == en("assistant.disabled")
    assert "PETCARE_AI_PROVIDER=gemini" in at.code[0].value


def test_ask_shows_streamed_answer_tool_calls_and_opens_proposal_in_editor(
    ai_env: FakeModelServer,
    app: Callable[[], AppTest],
    admin: Actor,
    rt: Runtime,
    ai_target: AiTarget,  # noqa: F811
) -> None:
    ai_env.reply(
        {"calls": [{"name": "list_tables", "args": {}}]},
        {"text": "You can remove it with:\n```sql\nDROP TABLE t\n```"},
    )
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/assistant.py").run()
    assert not at.exception
    assert en("assistant.consent", connection="tgt", consent="schema") in [
        c.value for c in at.caption
    ]
    at.chat_input(key="assistant_input").set_value("can I drop t?").run()
    assert not at.exception, at.exception
    # Issue 14 (U3): outside text is escaped Markdown; as_read is what the reader sees.
    text = " ".join(as_read(m.value) for m in at.markdown)
    assert "can I drop t?" in text and "You can remove it with:" in text
    assert "DROP TABLE t" in [c.value for c in at.code]  # the answer's code block
    labels = [as_read(e.label) for e in at.expander]
    assert any(label.startswith(en("assistant.tool", name="list_tables")) for label in labels)
    assert en("assistant.sent") in labels
    assert as_read(at.warning[0].value) == en("assistant.proposal_write") + " DROP TABLE t"
    conv_id = at.session_state["assistant_conversation"]
    assert assistant.get_conversation(rt, admin, conv_id).tokens_total > 0
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    # Resumed from the stored conversation on the next run, then opened in the editor.
    at.run()
    [button] = [b for b in at.button if b.label == en("assistant.open_in_editor")]
    button.click().run()
    assert at.session_state["editor_sql"] == "DROP TABLE t"
    assert at.session_state["editor_proposal"]["message_id"] > 0
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]


def test_conversations_can_be_resumed_and_deleted(
    ai_env: FakeModelServer,
    app: Callable[[], AppTest],
    admin: Actor,
    rt: Runtime,
) -> None:
    ai_env.default = {"text": "Hello!"}
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.switch_page("pages/assistant.py").run()
    at.chat_input(key="assistant_input").set_value("first question").run()
    assert not at.exception
    conv_id = at.session_state["assistant_conversation"]
    at.button(key=f"conv_{conv_id}").click().run()
    assert "first question" in " ".join(m.value for m in at.markdown)
    [delete] = [b for b in at.button if b.label == en("assistant.delete")]
    delete.click().run()
    assert assistant.list_conversations(rt, admin) == []


def test_other_pages_can_hand_a_question_to_the_assistant(
    ai_env: FakeModelServer, app: Callable[[], AppTest], admin: Actor
) -> None:
    ai_env.default = {"text": "It selects one row."}
    at = sign_in(app(), "admin", ADMIN_PASSWORD)
    at.session_state["assistant_question"] = "Explain what this query does: SELECT 1"
    at.switch_page("pages/assistant.py").run()
    assert not at.exception
    assert "It selects one row." in " ".join(m.value for m in at.markdown)
    assert "assistant_question" not in at.session_state
