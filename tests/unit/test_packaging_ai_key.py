"""The Gemini key: PETCARE_GEMINI_API_KEY first, then the SDK's GOOGLE_API_KEY and GEMINI_API_KEY.

Precedence (docs/operations.md): a command-line override < none; PETCARE_GEMINI_API_KEY from the
environment or the TOML file wins whenever it is non-empty; only when it is empty are
GOOGLE_API_KEY and then GEMINI_API_KEY read (google-genai's own order). The last test sends a real
request through the SDK to the local fake Gemini and checks the key that arrived.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from petcare_dba import settings
from petcare_dba.ai.protocol import Message
from petcare_dba.ai.providers import make_provider
from tests.fix_gemini import FakeModelServer, fake_gemini  # noqa: F401


@pytest.mark.parametrize(
    ("env", "key", "source"),
    [
        ({"GEMINI_API_KEY": "g"}, "g", "env GEMINI_API_KEY"),
        ({"GOOGLE_API_KEY": "o"}, "o", "env GOOGLE_API_KEY"),
        ({"GOOGLE_API_KEY": "o", "GEMINI_API_KEY": "g"}, "o", "env GOOGLE_API_KEY"),
        ({"PETCARE_GEMINI_API_KEY": "p", "GOOGLE_API_KEY": "o"}, "p", "env"),
        ({"PETCARE_GEMINI_API_KEY": "", "GEMINI_API_KEY": "g"}, "g", "env GEMINI_API_KEY"),
        ({"GOOGLE_API_KEY": "", "GEMINI_API_KEY": "g"}, "g", "env GEMINI_API_KEY"),
        ({}, "", "default"),
    ],
)
def test_key_precedence(env: dict[str, str], key: str, source: str) -> None:
    s = settings.load(env=env)
    assert s.gemini_api_key == key
    assert s.sources.get("gemini_api_key", "default") == source


def test_key_in_the_settings_file_beats_the_sdk_variables(tmp_path: Path) -> None:
    path = tmp_path / "petcare.toml"
    path.write_text('gemini_api_key = "from-file"\n', encoding="utf-8")
    s = settings.load(env={"GOOGLE_API_KEY": "o"}, config_file=path)
    assert (s.gemini_api_key, s.sources["gemini_api_key"]) == ("from-file", "file")


def test_override_beats_a_fallback_and_the_key_stays_secret() -> None:
    s = settings.load(env={"GEMINI_API_KEY": "AIza-fallback"})
    assert s.with_overrides(gemini_api_key="cli").gemini_api_key == "cli"
    row = next(r for r in s.describe() if r["name"] == "gemini_api_key")
    assert row["value"] == "(set)" and "AIza" not in str(row)


def test_only_the_declared_setting_falls_back() -> None:
    # GOOGLE_API_KEY must not fill the OpenAI-compatible key or any other secret.
    s = settings.load(env={"GOOGLE_API_KEY": "o", "GEMINI_API_KEY": "g"})
    assert s.openai_api_key == "" and s.secret_key == "" and s.health_token == ""


def test_the_fallback_key_reaches_gemini(fake_gemini: FakeModelServer) -> None:  # noqa: F811
    fake_gemini.reply({"text": "OK."})
    s = settings.load(
        env={
            "PETCARE_AI_PROVIDER": "gemini",
            "PETCARE_GEMINI_BASE_URL": fake_gemini.url,
            "PETCARE_AI_TIMEOUT_S": "5",
            "GEMINI_API_KEY": "key-from-gemini-env",
        }
    )
    list(make_provider(s).stream("system", [Message("user", "hi")], []))
    sent = fake_gemini.generate_requests()
    assert sent and sent[0]["headers"]["x-goog-api-key"] == "key-from-gemini-env"
