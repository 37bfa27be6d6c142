"""The provider the settings select: Gemini, an OpenAI-compatible endpoint, or disabled.

Gemini goes through the official `google-genai` SDK (`ai/gemini.py`); OpenAI-compatible endpoints
(Ollama, vLLM, llama.cpp server) through plain urllib and SSE (`ai/openai_compat.py`), so no extra
dependency; with no provider configured every question gets `protocol.disabled_error()`.
"""

from __future__ import annotations

from petcare_dba.ai.gemini import GeminiProvider
from petcare_dba.ai.openai_compat import OpenAIProvider
from petcare_dba.ai.protocol import DisabledProvider, Provider
from petcare_dba.settings import Settings


def make_provider(settings: Settings) -> Provider:
    """The provider the settings select (`ai_provider`)."""
    if settings.ai_provider == "gemini":
        return GeminiProvider(settings)
    if settings.ai_provider == "openai":
        return OpenAIProvider(settings)
    return DisabledProvider()
