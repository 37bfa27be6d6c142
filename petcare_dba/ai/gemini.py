"""The Gemini adapter, through the official `google-genai` SDK.

Automatic function calling is disabled (the assistant's loop executes tools, bounded); a timeout
and retries of 429/5xx with exponential backoff; failures translated by `protocol.explain_status`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.ai.protocol import (
    Event,
    Message,
    TextDelta,
    ToolCall,
    ToolSpec,
    TurnEnd,
    Usage,
    explain_status,
)
from petcare_dba.errors import ConfigError, PetcareError, Unavailable
from petcare_dba.messages import say
from petcare_dba.settings import Settings


@dataclass
class GeminiProvider:
    """Google Gemini through `google-genai` (timeouts and 429/5xx retries in HttpOptions)."""

    settings: Settings
    name: str = "gemini"
    model: str = ""
    _client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            from google import genai
            from google.genai import types
        except ImportError:
            # google-genai is the `[ai]` extra: a server install may leave it out.
            raise ConfigError(say("msg.ai.no_sdk"), hint=say("msg.ai.no_sdk.hint")) from None

        if not self.settings.gemini_api_key:
            raise ConfigError(say("msg.ai.no_gemini_key"), hint=say("msg.ai.no_gemini_key.hint"))
        self.model = self.model or self.settings.gemini_model
        retry = types.HttpRetryOptions(
            attempts=self.settings.ai_retries + 1,
            initial_delay=self.settings.ai_retry_delay_s,
            max_delay=30.0,
            http_status_codes=[408, 429, 500, 502, 503, 504],
        )
        http = types.HttpOptions(
            base_url=self.settings.gemini_base_url or None,
            api_version="v1beta",
            timeout=int(self.settings.ai_timeout_s * 1000),
            retry_options=retry,
        )
        self._client = genai.Client(api_key=self.settings.gemini_api_key, http_options=http)

    def _contents(self, messages: Sequence[Message]) -> list[Any]:
        from google.genai import types

        contents: list[Any] = []
        for m in messages:
            if m.raw is not None and m.role == "model":
                contents.append(m.raw)
            elif m.role == "model":
                parts = [types.Part(text=m.text)] if m.text else []
                parts += [
                    types.Part(function_call=types.FunctionCall(name=c.name, args=c.args))
                    for c in m.calls
                ]
                contents.append(types.Content(role="model", parts=parts))
            elif m.role == "tool":
                contents.append(
                    types.Content(
                        role="user",
                        parts=[
                            types.Part(
                                function_response=types.FunctionResponse(
                                    name=r.call.name, response={"output": r.content}
                                )
                            )
                            for r in m.results
                        ],
                    )
                )
            else:
                contents.append(types.Content(role="user", parts=[types.Part(text=m.text)]))
        return contents

    def _errors(self, exc: BaseException) -> PetcareError:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return explain_status("Gemini", int(exc.code or 0), exc.message or "", "gemini_api_key")
        name = type(exc).__name__
        if "Timeout" in name:
            return Unavailable(
                say("msg.ai.gemini_timeout", seconds=self.settings.ai_timeout_s),
                hint=say("msg.ai.timeout.hint"),
            )
        if isinstance(exc, ValueError):  # JSON or schema errors in the response body
            return Unavailable(
                say("msg.ai.gemini_malformed", kind=name), hint=say("msg.ai.retry.hint")
            )
        problem = f"{name}: {exc}"[:280]  # the SDK's own words, bounded
        return Unavailable(
            say("msg.ai.gemini_unreachable", problem=problem), hint=say("msg.ai.network.hint")
        )

    def stream(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> Iterator[Event]:
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=system,
            temperature=0.2,
            tools=[
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name=t.name,
                            description=t.description,
                            parameters_json_schema=t.parameters,
                        )
                        for t in tools
                    ]
                )
            ]
            if tools
            else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        parts: list[Any] = []
        usage: Usage | None = None
        try:
            for chunk in self._client.models.generate_content_stream(
                model=self.model, contents=self._contents(messages), config=config
            ):
                if chunk.usage_metadata is not None:
                    meta = chunk.usage_metadata
                    usage = Usage(
                        int(meta.prompt_token_count or 0),
                        int(meta.candidates_token_count or 0) + int(meta.thoughts_token_count or 0),
                    )
                for cand in chunk.candidates or []:
                    for part in (cand.content.parts if cand.content else None) or []:
                        parts.append(part)
                        if part.function_call is not None:
                            call = part.function_call
                            yield ToolCall(str(call.name), dict(call.args or {}), call.id or "")
                        elif part.text and not part.thought:
                            yield TextDelta(part.text)
        except PetcareError:
            raise
        except Exception as exc:
            raise self._errors(exc) from exc
        if usage is not None:
            yield usage
        text = "".join(p.text for p in parts if p.text and not p.thought)
        calls = tuple(
            ToolCall(str(p.function_call.name), dict(p.function_call.args or {}))
            for p in parts
            if p.function_call is not None
        )
        yield TurnEnd(Message("model", text, calls, raw=types.Content(role="model", parts=parts)))

    def count_tokens(self, system: str, messages: Sequence[Message]) -> int:
        try:
            from google.genai import types

            contents = [types.Content(role="user", parts=[types.Part(text=system)])]
            result = self._client.models.count_tokens(
                model=self.model, contents=contents + self._contents(messages)
            )
        except Exception as exc:
            raise self._errors(exc) from exc
        return int(result.total_tokens or 0)
