"""The provider protocol and its three implementations: Gemini, OpenAI-compatible, disabled.

A provider turns a system instruction, a provider-neutral message list and tool declarations
into a stream of events (`TextDelta`, `ToolCall`, `Usage`, and a final `TurnEnd` carrying the
model's turn so the tool loop can send it back verbatim). Gemini goes through the official
`google-genai` SDK with automatic function calling disabled (our loop executes tools, bounded);
OpenAI-compatible endpoints (Ollama, vLLM, llama.cpp server) through plain urllib and SSE
(`ai/openai_compat.py`), so no extra dependency. Both apply a timeout and retry 429/5xx with
exponential backoff, and translate failures into PetcareErrors that say what to do: a bad key
(ConfigError), a quota (Unavailable naming the provider's quota) or an outage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from petcare_dba.errors import ConfigError, PetcareError, Unavailable
from petcare_dba.settings import Settings


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: name, description, JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for."""

    name: str
    args: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class ToolResult:
    """What we answer to a ToolCall (already wrapped as untrusted data)."""

    call: ToolCall
    content: str


@dataclass(frozen=True)
class Message:
    """One provider-neutral turn: user text, model text/calls, or tool results."""

    role: str  # user | model | tool
    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    results: tuple[ToolResult, ...] = ()
    raw: Any = None  # the provider's own turn object, resent verbatim when present


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True)
class TurnEnd:
    message: Message


Event = TextDelta | ToolCall | Usage | TurnEnd


class Provider(Protocol):
    """What the assistant needs from a model provider."""

    name: str
    model: str

    def stream(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> Iterator[Event]: ...

    def count_tokens(self, system: str, messages: Sequence[Message]) -> int: ...


def estimate_tokens(text: str) -> int:
    """A provider-free token estimate (~4 characters per token, rounded up)."""
    return (len(text) + 3) // 4


def disabled_error() -> ConfigError:
    """The error every assistant entry point gives while no provider is configured."""
    return ConfigError(
        "the AI assistant is disabled",
        hint="an admin sets PETCARE_AI_PROVIDER=gemini and PETCARE_GEMINI_API_KEY "
        "(or openai and PETCARE_OPENAI_BASE_URL) and restarts the app",
    )


class DisabledProvider:
    """No provider configured: every call explains how to enable the assistant."""

    name = "disabled"
    model = ""

    def stream(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> Iterator[Event]:
        raise disabled_error()

    def count_tokens(self, system: str, messages: Sequence[Message]) -> int:
        return estimate_tokens(system + "".join(m.text for m in messages))


def explain_status(provider: str, code: int, message: str, setting: str) -> PetcareError:
    """A user-ready error for an HTTP status from a provider."""
    text = (message or "").strip()[:300]
    if code in (401, 403) or "API key" in text or "API_KEY" in text:
        return ConfigError(
            f"{provider} rejected the API key ({code}): {text}",
            hint=f"check {setting} (a valid key for this provider and model)",
        )
    if code == 429:
        return Unavailable(
            f"{provider} quota or rate limit reached (429): {text}",
            hint="wait a minute and ask again, or raise the project's quota at the provider",
        )
    if code == 404:
        return ConfigError(f"{provider} does not know this model (404): {text}")
    if code >= 500:
        return Unavailable(
            f"{provider} is unavailable ({code}) after retries: {text}",
            hint="the provider is having an outage; try again later (ai_retries, ai_timeout_s)",
        )
    return Unavailable(f"{provider} refused the request ({code}): {text}")


@dataclass
class GeminiProvider:
    """Google Gemini through `google-genai` (timeouts and 429/5xx retries in HttpOptions)."""

    settings: Settings
    name: str = "gemini"
    model: str = ""
    _client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from google import genai
        from google.genai import types

        if not self.settings.gemini_api_key:
            raise ConfigError(
                "gemini is selected but no API key is set", hint="set PETCARE_GEMINI_API_KEY"
            )
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
                f"Gemini did not answer within ai_timeout_s ({self.settings.ai_timeout_s} s)",
                hint="try again, or raise PETCARE_AI_TIMEOUT_S",
            )
        if isinstance(exc, ValueError):  # JSON or schema errors in the response body
            return Unavailable(f"Gemini sent a malformed response ({name})", hint="try again")
        return Unavailable(f"cannot reach Gemini: {name}: {exc}"[:300], hint="check the network")

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


def make_provider(settings: Settings) -> Provider:
    """The provider the settings select (`ai_provider`)."""
    if settings.ai_provider == "gemini":
        return GeminiProvider(settings)
    if settings.ai_provider == "openai":
        from petcare_dba.ai.openai_compat import OpenAIProvider

        return OpenAIProvider(settings)
    return DisabledProvider()
