"""Conversations, token accounting, quota, compaction, the bounded tool loop, audit and the CLI.

Scripted multi-turn conversations against the fake Gemini (and once the fake OpenAI-compatible
endpoint) through `services.assistant` and `petcare-dba ask`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from petcare_dba.cli import assistant as assistant_cli
from petcare_dba.cli import common
from petcare_dba.errors import ConfigError, NotFound, QuotaExceeded
from petcare_dba.services import assistant
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import prompts
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.settings import Settings
from tests.fix_db import RUNTIME_PASSWORD
from tests.fix_gemini import (  # noqa: F401
    AiTarget,
    FakeModelServer,
    ai_target,
    fake_gemini,
    fake_openai,
    use_gemini,
    use_openai,
)


def test_conversations_are_titled_resumable_listable_deletable_and_private(
    rt: Runtime,
    admin: Actor,
    make_user: Any,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini)
    fake_gemini.reply({"text": "There are 3 tables."}, {"text": "t has 3 rows."})
    first = assistant.ask_all(rt, admin, "How many tables are there?", connection="tgt")
    second = assistant.ask_all(
        rt, admin, "And rows in t?", connection="tgt", conversation_id=first.conversation_id
    )
    assert second.conversation_id == first.conversation_id
    contents = fake_gemini.generate_requests()[-1]["body"]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[0]["parts"][0]["text"] == "How many tables are there?"
    assert contents[1]["parts"][0]["text"] == "There are 3 tables."
    [conv] = assistant.list_conversations(rt, admin)
    assert conv.title == "How many tables are there?" and conv.connection == "tgt"
    msgs = assistant.messages(rt, admin, conv.id)
    assert [m.role for m in msgs] == ["user", "assistant", "user", "assistant"]
    spent = sum(m.tokens_in + m.tokens_out for m in msgs)
    assert spent > 0 and conv.tokens_total == spent
    assert msgs[0].context_sent["context"]["consent"] == "schema"  # what was sent is recorded
    other = make_user("otto", "analyst")
    assert assistant.list_conversations(rt, other) == []
    with pytest.raises(NotFound):
        assistant.messages(rt, other, conv.id)
    assistant.rename_conversation(rt, admin, conv.id, "Tables")
    assert assistant.get_conversation(rt, admin, conv.id).title == "Tables"
    before = assistant.tokens_today(rt, admin)
    assistant.delete_conversation(rt, admin, conv.id)
    assert assistant.list_conversations(rt, admin) == []
    assert assistant.tokens_today(rt, admin) == before  # deleting does not refund the quota


def test_daily_token_quota_stops_new_questions(
    rt: Runtime,
    admin: Actor,
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini, ai_daily_token_quota=10)
    assistant.ask_all(rt, admin, "hello")
    with pytest.raises(QuotaExceeded, match="ai_daily_token_quota"):
        assistant.ask(rt, admin, "hello again")
    assert len(fake_gemini.generate_requests()) == 1


def test_long_conversations_are_compacted(
    rt: Runtime,
    admin: Actor,
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini, ai_conversation_tokens=200)
    fake_gemini.default = {"text": "A long answer. " * 40}
    conv = None
    for i in range(6):
        conv = assistant.ask_all(
            rt, admin, f"question {i} " * 10, conversation_id=conv
        ).conversation_id
    contents = fake_gemini.generate_requests()[-1]["body"]["contents"]
    assert "Summary of the earlier conversation" in contents[0]["parts"][0]["text"]
    assert len(contents) == 2 + 6 + 1  # summary exchange, 6 recent turns, the question


def test_the_tool_loop_is_bounded_and_every_call_is_audited(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini, ai_max_tool_calls=3)
    fake_gemini.default = {"calls": [{"name": "list_tables", "args": {}}]}
    answer = assistant.ask_all(rt, admin, "loop forever", connection="tgt")
    assert [t.name for t in answer.tools] == ["list_tables"] * 3
    requests = fake_gemini.generate_requests()
    assert len(requests) == 4 and "tools" not in requests[-1]["body"]
    tool_events = audit.recent(rt.store, admin, action="assistant.tool")
    assert len(tool_events) == 3 and all(e.ai_initiated for e in tool_events)
    assert len(audit.recent(rt.store, admin, action="assistant.ask")) == 1
    assert len(audit.recent(rt.store, admin, action="assistant.answer")) == 1


def test_describe_explain_findings_and_metrics_tools(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    use_gemini(rt, fake_gemini)
    assistant.set_consent(rt, admin, "tgt", "stats")
    fake_gemini.reply(
        {
            "calls": [
                {"name": "describe_table", "args": {"table": "public.pets"}},
                {"name": "explain_query", "args": {"sql": "SELECT * FROM pets WHERE id = 1"}},
                {"name": "get_advisor_findings", "args": {}},
                {"name": "get_metrics", "args": {}},
            ]
        },
        {"text": "Index pets.tutor_id."},
    )
    answer = assistant.ask_all(rt, admin, "how can pets be faster?", connection="tgt")
    assert [(t.name, t.ok) for t in answer.tools] == [
        ("describe_table", True),
        ("explain_query", True),
        ("get_advisor_findings", True),
        ("get_metrics", True),
    ]
    sent = fake_gemini.sent_text()
    assert "tutor_id integer" in sent and ("Index Scan" in sent or "Seq Scan" in sent)
    assert "unindexed_foreign_keys" in sent and "cache_hit_pct" in sent


def test_the_openai_compatible_provider_runs_the_same_assistant(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_openai: FakeModelServer,  # noqa: F811
) -> None:
    use_openai(rt, fake_openai)
    fake_openai.reply(
        {"calls": [{"name": "list_tables", "args": {}}]},
        {"text": "```sql\nTRUNCATE t\n```"},
    )
    answer = assistant.ask_all(rt, admin, "empty t", connection="tgt")
    assert answer.tools[0].ok and not answer.proposals[0].read_only
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    tool_msg = fake_openai.requests[1]["body"]["messages"][-1]
    assert tool_msg["role"] == "tool" and "untrusted-data-" in tool_msg["content"]


def test_a_disabled_assistant_says_how_to_enable_it(rt: Runtime, admin: Actor) -> None:
    with pytest.raises(ConfigError, match="disabled"):
        assistant.ask(rt, admin, "hello")
    assert assistant.list_conversations(rt, admin) == []


@pytest.fixture
def cli(
    test_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    fake_gemini: FakeModelServer,  # noqa: F811
) -> typer.Typer:
    """A Typer app with the assistant commands, configured for this store and the fake."""
    for key, value in {
        "PETCARE_DATABASE_URL": test_settings.database_url,
        "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
        "PETCARE_SECRET_KEY": test_settings.secret_key,
        "PETCARE_DATA_DIR": str(test_settings.data_dir),
        "PETCARE_AI_PROVIDER": "gemini",
        "PETCARE_GEMINI_API_KEY": "test",
        "PETCARE_GEMINI_BASE_URL": fake_gemini.url,
        "PETCARE_AI_RETRY_DELAY_S": "0.01",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PETCARE_CONFIG", raising=False)
    monkeypatch.setitem(common.STATE, "overrides", {})
    app = typer.Typer()
    assistant_cli.register(app)

    @app.callback()
    def _root() -> None:
        """Test app."""

    return app


def test_cli_ask_streams_the_answer_and_lists_proposals(
    cli: typer.Typer,
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    fake_gemini.reply(
        {"calls": [{"name": "list_tables", "args": {}}]},
        {"text": "Run this:\n```sql\nDROP TABLE t\n```"},
        {"text": "Still three rows."},
    )
    result = CliRunner().invoke(cli, ["ask", "--connection", "tgt", "drop t?"])
    assert result.exit_code == 0, result.output
    assert "Run this:" in result.stdout and "DROP TABLE t" in result.stdout
    assert "[tool] list_tables" in result.stderr
    assert "[proposal WRITES - not run" in result.stderr
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    [conv] = assistant.list_conversations(rt, admin)
    again = CliRunner().invoke(
        cli, ["ask", "--conversation", str(conv.id), "--format", "json", "and now?"]
    )
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["conversation_id"] == conv.id and data["answer"] == "Still three rows."
    listed = CliRunner().invoke(cli, ["ai-conversations", "--format", "json"])
    assert json.loads(listed.stdout)[0]["messages"] == 5  # user, tool, assistant, user, assistant


def test_write_sql_for_goes_to_the_editor_not_to_the_database(
    rt: Runtime,
    admin: Actor,
    ai_target: AiTarget,  # noqa: F811
    fake_gemini: FakeModelServer,  # noqa: F811
) -> None:
    fake_gemini.reply({"text": "```sql\nDELETE FROM t WHERE id > 1\n```\nDeletes two rows."})
    use_gemini(rt, fake_gemini)
    proposal = assistant.draft_sql(rt, admin, "remove all but the first row", connection="tgt")
    assert proposal is not None and proposal.sql == "DELETE FROM t WHERE id > 1"
    assert not proposal.read_only
    assert ai_target.rows("SELECT count(*) FROM t") == [(3,)]
    asked = fake_gemini.generate_requests()[0]["body"]["contents"][-1]["parts"][0]["text"]
    assert asked.startswith("Write one PostgreSQL statement for: remove all but the first row")
    why = prompts.why_failed("SELEC 1", "42601", 'syntax error at or near "SELEC"')
    assert "42601" in why and "SELEC 1" in why
