"""Declared settings: the AI assistant and its model providers.

One part of the registry (`settings.registry` joins the parts); each entry is a `Setting`.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

# A model name as providers spell them (`gemini-2.5-flash`, `models/x`, `llama3.1:8b`): no spaces,
# no control characters, bounded (it is editable at run time and ends up in request URLs).
MODEL_PATTERN = r"(?:[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127})?"

DECLARED: tuple[Setting, ...] = (
    Setting(
        "ai_provider",
        "disabled",
        "AI provider.",
        "ai",
        choices=("disabled", "gemini", "openai"),
        runtime_editable=True,
    ),
    Setting(
        "gemini_api_key",
        "",
        "Google Gemini API key. When empty, GOOGLE_API_KEY and then GEMINI_API_KEY are read "
        "(the google-genai SDK's own variables, in its order).",
        "ai",
        secret=True,
        fallback_env=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
        runtime_editable=True,
    ),
    Setting(
        "gemini_model",
        "gemini-2.5-flash",
        "Gemini model name.",
        "ai",
        pattern=MODEL_PATTERN,
        runtime_editable=True,
    ),
    Setting("gemini_base_url", "", "Override of the Gemini API base URL (tests, proxies).", "ai"),
    Setting("openai_base_url", "", "Base URL of an OpenAI-compatible endpoint.", "ai"),
    Setting(
        "openai_model",
        "",
        "Model name for the OpenAI-compatible endpoint.",
        "ai",
        pattern=MODEL_PATTERN,
        runtime_editable=True,
    ),
    Setting(
        "openai_api_key",
        "",
        "Key of the OpenAI-compatible endpoint.",
        "ai",
        secret=True,
        runtime_editable=True,
    ),
    Setting(
        "ai_timeout_s",
        60.0,
        "Seconds to wait for the AI provider.",
        "ai",
        float,
        bounds=(1, 3600),
        runtime_editable=True,
    ),
    Setting(
        "ai_retries",
        3,
        "Retries (with backoff) after an AI 429 or 5xx.",
        "ai",
        int,
        bounds=(0, 20),
        runtime_editable=True,
    ),
    Setting("ai_retry_delay_s", 1.0, "First AI retry delay (s); doubles.", "ai", float),
    Setting("ai_context_tokens", 8000, "Token budget of the schema context.", "ai", int),
    Setting("ai_conversation_tokens", 24000, "History tokens before compacting.", "ai", int),
    Setting(
        "ai_max_tool_calls",
        8,
        "Tool calls per question at most.",
        "ai",
        int,
        bounds=(1, 100),
        runtime_editable=True,
    ),
    Setting("ai_max_data_rows", 50, "Data rows sent to the model at most.", "ai", int),
    Setting(
        "ai_daily_token_quota",
        200000,
        "AI tokens per user per day (0: none).",
        "ai",
        int,
        bounds=(0, 10**10),
        runtime_editable=True,
    ),
    Setting("gemini_paid_tier", False, "Key is paid tier (else no rows sent).", "ai", bool),
)
