"""An OpenAI-compatible chat-completions provider (Ollama, vLLM, llama.cpp server, ...).

Plain urllib and JSON, no extra dependency: requests go to `<openai_base_url>/chat/completions`
with `stream: true`, the server-sent events are parsed here, streamed tool-call fragments are
reassembled, and 429/5xx answers are retried with exponential backoff (`ai_retries`,
`ai_retry_delay_s`) before a user-ready error names the setting to check.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from petcare_dba.ai.protocol import (
    Event,
    Message,
    TextDelta,
    ToolCall,
    ToolSpec,
    TurnEnd,
    Usage,
    estimate_tokens,
    explain_status,
)
from petcare_dba.errors import ConfigError, PetcareError, Unavailable
from petcare_dba.messages import say
from petcare_dba.settings import Settings


@dataclass
class OpenAIProvider:
    """Any OpenAI-compatible chat-completions endpoint, streamed over SSE with urllib."""

    settings: Settings
    name: str = "openai"
    model: str = ""

    def __post_init__(self) -> None:
        if not self.settings.openai_base_url:
            raise ConfigError(say("msg.ai.no_url"), hint=say("msg.ai.no_url.hint"))
        if not self.settings.openai_base_url.startswith(("http://", "https://")):
            raise ConfigError(say("msg.ai.url_scheme"))
        self.model = self.model or self.settings.openai_model or "default"

    def _messages(self, system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for m in messages:
            if m.role == "model":
                entry: dict[str, Any] = {"role": "assistant", "content": m.text or None}
                if m.calls:
                    entry["tool_calls"] = [
                        {
                            "id": c.id or f"call_{i}",
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.args)},
                        }
                        for i, c in enumerate(m.calls)
                    ]
                out.append(entry)
            elif m.role == "tool":
                out.extend(
                    {"role": "tool", "tool_call_id": r.call.id or f"call_{i}", "content": r.content}
                    for i, r in enumerate(m.results)
                )
            else:
                out.append({"role": "user", "content": m.text})
        return out

    def _open(self, body: dict[str, Any]) -> Any:
        url = self.settings.openai_base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.settings.openai_api_key:
            headers["Authorization"] = f"Bearer {self.settings.openai_api_key}"
        data = json.dumps(body).encode("utf-8")
        delay = self.settings.ai_retry_delay_s
        attempts = self.settings.ai_retries + 1
        for attempt in range(attempts):
            request = urllib.request.Request(  # noqa: S310 - scheme checked in __post_init__
                url, data=data, headers=headers, method="POST"
            )
            try:
                return urllib.request.urlopen(  # noqa: S310  # nosec B310
                    request, timeout=self.settings.ai_timeout_s
                )
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")
                retryable = exc.code in (408, 429) or exc.code >= 500
                if not retryable or attempt == attempts - 1:
                    raise explain_status(
                        say("msg.ai.endpoint"), exc.code, _message(detail), "openai_api_key"
                    ) from exc
            except TimeoutError as exc:
                if attempt == attempts - 1:
                    raise Unavailable(
                        say("msg.ai.endpoint_timeout", seconds=self.settings.ai_timeout_s)
                    ) from exc
            except urllib.error.URLError as exc:
                if attempt == attempts - 1:
                    raise Unavailable(
                        say("msg.ai.endpoint_unreachable", reason=str(exc.reason)),
                        hint=say("msg.ai.endpoint_unreachable.hint"),
                    ) from exc
            time.sleep(delay * (2**attempt))
        raise Unavailable(say("msg.ai.endpoint_down"))  # pragma: no cover - loop returns

    def stream(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> Iterator[Event]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self._messages(system, messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0.2,
        }
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        text: list[str] = []
        pending: dict[int, dict[str, str]] = {}
        try:
            with self._open(body) as resp:
                for data in _sse(resp):
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("usage"):
                        u = chunk["usage"]
                        yield Usage(
                            int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
                        )
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if delta.get("content"):
                            text.append(delta["content"])
                            yield TextDelta(delta["content"])
                        for tc in delta.get("tool_calls") or []:
                            slot = pending.setdefault(
                                int(tc.get("index", 0)), {"id": "", "name": "", "args": ""}
                            )
                            fn = tc.get("function") or {}
                            slot["id"] = tc.get("id") or slot["id"]
                            slot["name"] = fn.get("name") or slot["name"]
                            slot["args"] += fn.get("arguments") or ""
        except PetcareError:
            raise
        except TimeoutError as exc:
            raise Unavailable(
                say("msg.ai.endpoint_stopped", seconds=self.settings.ai_timeout_s)
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Unavailable(
                say("msg.ai.endpoint_malformed"), hint=say("msg.ai.endpoint_retry.hint")
            ) from exc
        calls = []
        for _, slot in sorted(pending.items()):
            try:
                args = json.loads(slot["args"] or "{}")
            except ValueError:
                args = {"_unparsed": slot["args"]}
            call = ToolCall(slot["name"], args if isinstance(args, dict) else {}, slot["id"])
            calls.append(call)
            yield call
        yield TurnEnd(Message("model", "".join(text), tuple(calls)))

    def count_tokens(self, system: str, messages: Sequence[Message]) -> int:
        return estimate_tokens(json.dumps(self._messages(system, messages)))


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or body)[:300]


def _sse(resp: Any) -> Iterator[str]:
    """The `data:` payloads of a server-sent-events response, one event at a time."""
    buffer: list[str] = []
    for raw in resp:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if buffer:
                yield "\n".join(buffer)
                buffer = []
            continue
        if line.startswith("data:"):
            buffer.append(line[5:].lstrip())
    if buffer:
        yield "\n".join(buffer)
