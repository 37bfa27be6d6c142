"""The AI providers against local fake servers: the real google-genai SDK and our urllib client.

Streaming, function calls, token counting, retries with backoff on 429/5xx, timeouts, bad keys
and malformed bodies, each turned into an error that says what to do.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.ai.gemini import GeminiProvider
from petcare_dba.ai.openai_compat import OpenAIProvider
from petcare_dba.ai.protocol import (
    Message,
    TextDelta,
    ToolCall,
    ToolSpec,
    TurnEnd,
    Usage,
)
from petcare_dba.ai.providers import make_provider
from petcare_dba.errors import ConfigError, Unavailable
from tests.fix_gemini import FakeModelServer, fake_gemini, fake_openai  # noqa: F401

SPEC = ToolSpec("list_tables", "List tables.", {"type": "object", "properties": {}})


def gemini(server: FakeModelServer, **overrides: Any) -> GeminiProvider:
    values: dict[str, Any] = {
        "ai_provider": "gemini",
        "gemini_api_key": "test",
        "gemini_base_url": server.url,
        "ai_retry_delay_s": 0.01,
        "ai_timeout_s": 5,
    }
    values.update(overrides)
    provider = make_provider(settings_mod.load(env={}).with_overrides(**values))
    assert isinstance(provider, GeminiProvider)
    return provider


def openai(server: FakeModelServer, **overrides: Any) -> OpenAIProvider:
    values: dict[str, Any] = {
        "ai_provider": "openai",
        "openai_base_url": server.url,
        "openai_model": "llama3",
        "ai_retry_delay_s": 0.01,
        "ai_timeout_s": 5,
    }
    values.update(overrides)
    provider = make_provider(settings_mod.load(env={}).with_overrides(**values))
    assert isinstance(provider, OpenAIProvider)
    return provider


def events(provider: Any, text: str = "hi") -> list[Any]:
    return list(provider.stream("system", [Message("user", text)], [SPEC]))


def test_gemini_streams_text_in_chunks_with_usage(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"text": "The table has three rows."})
    found = events(gemini(fake_gemini))
    deltas = [e.text for e in found if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "The table has three rows."
    usage = next(e for e in found if isinstance(e, Usage))
    assert usage.tokens_in > 0 and usage.tokens_out > 0
    request = fake_gemini.requests[0]
    assert request["path"] == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request["headers"]["x-goog-api-key"] == "test"
    body = request["body"]
    assert body["systemInstruction"]["parts"][0]["text"] == "system"
    declared = body["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "list_tables"
    # Automatic function calling is a client-side SDK feature: nothing about it goes out, and
    # no call is executed by the SDK (our loop does that).


def test_gemini_function_calls_come_back_as_tool_calls(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"calls": [{"name": "list_tables", "args": {"schema": "public"}}]})
    found = events(gemini(fake_gemini))
    calls = [e for e in found if isinstance(e, ToolCall)]
    assert calls == [ToolCall("list_tables", {"schema": "public"}, "")]
    end = found[-1]
    assert isinstance(end, TurnEnd) and end.message.calls[0].name == "list_tables"


def test_gemini_retries_429_and_5xx_with_backoff(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"status": 429}, {"status": 503}, {"text": "fine"})
    found = events(gemini(fake_gemini, ai_retries=3))
    assert "".join(e.text for e in found if isinstance(e, TextDelta)) == "fine"
    assert len(fake_gemini.requests) == 3


def test_gemini_outage_after_retries_is_a_clear_error(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.default = {"status": 500, "message": "backend error"}
    with pytest.raises(Unavailable, match="unavailable \\(500\\) after retries") as info:
        events(gemini(fake_gemini, ai_retries=2))
    assert "ai_retries" in (info.value.hint or "")
    assert len(fake_gemini.requests) == 3


def test_gemini_quota_is_named(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.default = {"status": 429, "message": "Resource has been exhausted"}
    with pytest.raises(Unavailable, match="quota or rate limit"):
        events(gemini(fake_gemini, ai_retries=1))


def test_gemini_bad_key_names_the_setting(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    with pytest.raises(ConfigError, match="rejected the API key") as info:
        events(gemini(fake_gemini, gemini_api_key="bad-key"))
    assert "gemini_api_key" in (info.value.hint or "")
    assert len(fake_gemini.requests) == 1  # a bad key is not retried


def test_gemini_timeout_is_cut_and_named(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"delay": 3, "text": "late"})
    started = time.monotonic()
    with pytest.raises(Unavailable, match="ai_timeout_s"):
        events(gemini(fake_gemini, ai_timeout_s=1, ai_retries=0))
    assert time.monotonic() - started < 2.9


def test_gemini_malformed_body_is_an_error_not_a_crash(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"raw": "<html>proxy error</html>"})
    with pytest.raises(Unavailable, match="malformed"):
        events(gemini(fake_gemini, ai_retries=0))


def test_gemini_counts_tokens_through_the_api(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    assert gemini(fake_gemini).count_tokens("system", [Message("user", "x" * 400)]) > 100
    assert fake_gemini.requests[0]["path"].endswith(":countTokens")


def test_openai_streams_text_and_assembles_tool_calls(fake_openai: FakeModelServer) -> None:  # noqa: F811
    fake_openai.reply(
        {"calls": [{"name": "describe_table", "args": {"table": "public.t"}}]},
        {"text": "It has two columns."},
    )
    provider = openai(fake_openai)
    first = events(provider)
    assert [e for e in first if isinstance(e, ToolCall)] == [
        ToolCall("describe_table", {"table": "public.t"}, "call_0")
    ]
    second = events(provider)
    assert "".join(e.text for e in second if isinstance(e, TextDelta)) == "It has two columns."
    body = fake_openai.requests[0]["body"]
    assert body["model"] == "llama3" and body["stream"] is True
    assert body["tools"][0]["function"]["name"] == "list_tables"


def test_openai_retries_then_reports_outage_and_bad_key(fake_openai: FakeModelServer) -> None:  # noqa: F811
    fake_openai.reply({"status": 429}, {"text": "ok"})
    assert "".join(e.text for e in events(openai(fake_openai)) if isinstance(e, TextDelta)) == "ok"
    fake_openai.default = {"status": 503}
    with pytest.raises(Unavailable, match="503"):
        events(openai(fake_openai, ai_retries=1))
    fake_openai.default = {"status": 401, "message": "invalid api key"}
    with pytest.raises(ConfigError, match="rejected the API key"):
        events(openai(fake_openai))


def test_disabled_provider_says_how_to_enable() -> None:
    provider = make_provider(settings_mod.load(env={}))
    with pytest.raises(ConfigError, match="disabled") as info:
        list(provider.stream("s", [], []))
    assert "PETCARE_AI_PROVIDER" in (info.value.hint or "")
