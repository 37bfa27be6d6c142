"""Messages of the AI assistant and its providers: the question, the daily quota, conversations,
consent, and a provider that is off, slow, refusing or out of quota. The provider's own reply
(`{text}`) stays as it came."""

from __future__ import annotations

TEMPLATES = {
    "msg.assistant.ask": "ask a question",
    "msg.assistant.quota": "you have used your daily AI token quota (ai_daily_token_quota = "
    "{quota})",
    "msg.assistant.quota.hint": "it resets at midnight UTC; an admin can raise "
    "PETCARE_AI_DAILY_TOKEN_QUOTA",
    "msg.assistant.not_proposed": "this SQL is not the text the assistant proposed (it was "
    "edited, or the proposal does not exist)",
    "msg.assistant.not_proposed.hint": "run it from the SQL editor as your own SQL",
    "msg.assistant.no_conversation": "no conversation {id}",
    "msg.assistant.no_conversation.hint": "petcare-dba ask without --conversation",
    "msg.assistant.title": "a conversation needs a title",
    "msg.assistant.consent": "AI consent must be one of {choices}",
    "msg.ai.disabled": "the AI assistant is disabled",
    "msg.ai.disabled.hint": "an admin sets PETCARE_AI_PROVIDER=gemini and PETCARE_GEMINI_API_KEY "
    "(or openai and PETCARE_OPENAI_BASE_URL) and restarts the app",
    "msg.ai.endpoint": "the AI endpoint",
    "msg.ai.bad_key": "{provider} rejected the API key ({code}): {text}",
    "msg.ai.bad_key.hint": "check {setting} (a valid key for this provider and model)",
    "msg.ai.rate_limit": "{provider} quota or rate limit reached (429): {text}",
    "msg.ai.rate_limit.hint": "wait a minute and ask again, or raise the project's quota at the "
    "provider",
    "msg.ai.no_model": "{provider} does not know this model (404): {text}",
    "msg.ai.outage": "{provider} is unavailable ({code}) after retries: {text}",
    "msg.ai.outage.hint": "the provider is having an outage; try again later (ai_retries, "
    "ai_timeout_s)",
    "msg.ai.refused": "{provider} refused the request ({code}): {text}",
    "msg.ai.no_sdk": "gemini is selected but the google-genai package is not installed",
    "msg.ai.no_sdk.hint": "install petcare-dba[ai] (pip install 'petcare-dba[ai]')",
    "msg.ai.no_gemini_key": "gemini is selected but no API key is set",
    "msg.ai.no_gemini_key.hint": "set PETCARE_GEMINI_API_KEY (or GOOGLE_API_KEY / GEMINI_API_KEY)",
    "msg.ai.gemini_timeout": "Gemini did not answer within ai_timeout_s ({seconds} s)",
    "msg.ai.timeout.hint": "try again, or raise PETCARE_AI_TIMEOUT_S",
    "msg.ai.gemini_malformed": "Gemini sent a malformed response ({kind})",
    "msg.ai.retry.hint": "try again",
    "msg.ai.gemini_unreachable": "cannot reach Gemini: {problem}",
    "msg.ai.network.hint": "check the network",
    "msg.ai.no_url": "openai is selected but no endpoint is set",
    "msg.ai.no_url.hint": "set PETCARE_OPENAI_BASE_URL",
    "msg.ai.url_scheme": "PETCARE_OPENAI_BASE_URL must be an http:// or https:// URL",
    "msg.ai.endpoint_timeout": "the AI endpoint did not answer within ai_timeout_s ({seconds} s)",
    "msg.ai.endpoint_unreachable": "cannot reach the AI endpoint: {reason}",
    "msg.ai.endpoint_unreachable.hint": "check PETCARE_OPENAI_BASE_URL",
    "msg.ai.endpoint_down": "the AI endpoint is unavailable",
    "msg.ai.endpoint_stopped": "the AI endpoint stopped answering (ai_timeout_s {seconds})",
    "msg.ai.endpoint_malformed": "the AI endpoint sent a malformed response",
    "msg.ai.endpoint_retry.hint": "retry",
}
