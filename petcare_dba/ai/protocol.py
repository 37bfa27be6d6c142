"""The provider protocol: messages, tool calls, events, and the errors every provider shares.

A provider turns a system instruction, a provider-neutral message list and tool declarations
into a stream of events (`TextDelta`, `ToolCall`, `Usage`, and a final `TurnEnd` carrying the
model's turn so the tool loop can send it back verbatim). Failures become PetcareErrors that say
what to do: a bad key (ConfigError), a quota (Unavailable naming the provider's quota) or an outage
(`explain_status`). The adapters (`ai/gemini.py`, `ai/openai_compat.py`) import this module only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from petcare_dba.errors import ConfigError, PetcareError, Unavailable
from petcare_dba.messages import say


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
    return ConfigError(say("msg.ai.disabled"), hint=say("msg.ai.disabled.hint"))


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
            say("msg.ai.bad_key", provider=provider, code=code, text=text),
            hint=say("msg.ai.bad_key.hint", setting=setting),
        )
    if code == 429:
        return Unavailable(
            say("msg.ai.rate_limit", provider=provider, text=text),
            hint=say("msg.ai.rate_limit.hint"),
        )
    if code == 404:
        return ConfigError(say("msg.ai.no_model", provider=provider, text=text))
    if code >= 500:
        return Unavailable(
            say("msg.ai.outage", provider=provider, code=code, text=text),
            hint=say("msg.ai.outage.hint"),
        )
    return Unavailable(say("msg.ai.refused", provider=provider, code=code, text=text))
