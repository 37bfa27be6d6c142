"""Browser journey: ask the assistant, watch the answer stream with its tool call, open the
proposed SQL in the editor — against the fake Gemini server, in headless Chromium.

The app subprocess gets PETCARE_AI_PROVIDER=gemini, PETCARE_GEMINI_API_KEY=test and
PETCARE_GEMINI_BASE_URL=<fake> in its environment; the fake runs in this test process.
"""

from __future__ import annotations

import pytest

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import screenshot
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_gemini import AiTarget, FakeModelServer, ai_target, fake_gemini  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def ai_live_app(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    fake_gemini: FakeModelServer,  # noqa: F811
) -> str:
    """The live app with the assistant pointed at the fake (env set before it starts)."""
    for key, value in {
        "PETCARE_AI_PROVIDER": "gemini",
        "PETCARE_GEMINI_API_KEY": "test",
        "PETCARE_GEMINI_BASE_URL": fake_gemini.url,
        "PETCARE_AI_RETRY_DELAY_S": "0.01",
    }.items():
        monkeypatch.setenv(key, value)
    return str(request.getfixturevalue("live_app"))


def test_ask_see_stream_and_tool_calls_then_open_sql_in_editor(
    ai_live_app: str,
    browser,  # type: ignore[no-untyped-def]
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    fake_gemini.reply(
        {"calls": [{"name": "list_tables", "args": {}}]},
        {
            "text": "Table t has three rows. To remove it:\n```sql\nDROP TABLE t\n```",
            "chunk_delay": 0.3,
        },
    )
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(ai_live_app)
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="AI assistant").click()
    page.get_by_text("AI consent on tgt: schema").wait_for(timeout=30000)
    box = page.get_by_placeholder("Ask about the schema, a query, an error…")
    box.fill("What is in table t, and how do I drop it?")
    box.press("Enter")
    page.get_by_text("Table t has three rows").wait_for(timeout=30000)
    page.get_by_text("Used 1 tool(s)").click()  # the status box holds the tool calls
    page.get_by_text("Tool list_tables").first.wait_for(timeout=10000)
    page.get_by_text("What was sent to the model").first.wait_for(timeout=10000)
    page.get_by_text("Tokens:").wait_for(timeout=10000)
    assert page.get_by_text("It was not run").first.is_visible()
    screenshot(page, "journey-assistant-answer")
    page.get_by_role("button", name="Open in editor").click()
    page.get_by_role("heading", name="SQL editor").wait_for(timeout=30000)
    editor = page.frame_locator("iframe").first
    editor.get_by_text("DROP TABLE t").first.wait_for(timeout=20000)
    screenshot(page, "journey-assistant-editor")
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    context.close()
