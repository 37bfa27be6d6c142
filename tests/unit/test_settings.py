"""The settings registry: layering, coercion, and docs/settings.md completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from petcare_dba import settings
from petcare_dba.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_layering_defaults_file_env_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "petcare.toml"
    cfg.write_text('max_rows = 10\nhost = "0.0.0.0"\n')
    loaded = settings.load(env={"PETCARE_MAX_ROWS": "20"}, config_file=cfg, port=9000)
    assert loaded.max_rows == 20 and loaded.sources["max_rows"] == "env"
    assert loaded.host == "0.0.0.0" and loaded.sources["host"] == "file"
    assert loaded.port == 9000 and loaded.sources["port"] == "cli"
    assert loaded.lock_timeout_ms == 5000 and "lock_timeout_ms" not in loaded.sources


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PETCARE_MAX_ROWS": "many"}, "must be a int"),
        ({"PETCARE_DEMO_ENABLED": "perhaps"}, "true or false"),
        ({"PETCARE_AI_PROVIDER": "skynet"}, "must be one of"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings.load(env=env)


def test_secrets_are_never_described_in_clear() -> None:
    rows = settings.load(env={"PETCARE_GEMINI_API_KEY": "AIza-secret"}).describe()
    shown = {r["name"]: r["value"] for r in rows}
    assert shown["gemini_api_key"] == "(set)" and shown["secret_key"] == "(unset)"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [s.env_var for s in settings.SETTINGS if f"`{s.env_var}`" not in text]
    assert not missing, f"undocumented settings in docs/settings.md: {missing}"
    assert text.strip() == settings.markdown().strip(), (
        "docs/settings.md is stale: petcare-dba settings --format markdown > docs/settings.md"
    )
