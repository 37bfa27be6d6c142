"""Adapters to language models: the provider protocol, Gemini, OpenAI-compatible, disabled.

Only the assistant (`services/assistant/`) uses this package; it knows nothing of databases,
schemas or users. The face hands on the protocol's types and `make_provider`.
"""

from __future__ import annotations

from petcare_dba.ai.protocol import (
    Event,
    Message,
    Provider,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    TurnEnd,
    Usage,
    disabled_error,
    estimate_tokens,
)
from petcare_dba.ai.providers import make_provider

__all__ = [
    "Event",
    "Message",
    "Provider",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "TurnEnd",
    "Usage",
    "disabled_error",
    "estimate_tokens",
    "make_provider",
]
