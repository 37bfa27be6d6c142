"""The settings registry: layering, coercion, bounds, typed accessors, docs/settings.md
completeness, and that settings enter only through the registry."""

from __future__ import annotations

import ast
import re
import typing
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
        ({"PETCARE_MAX_ROWS": "many"}, "must be a whole number"),
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


def test_every_setting_has_a_typed_accessor_of_its_registry_type() -> None:
    hints = typing.get_type_hints(settings.Settings)
    wrong = {}
    for decl in settings.SETTINGS:
        want = decl.type if decl.default is not None else decl.type | None
        if hints.get(decl.name) != want:
            wrong[decl.name] = (want, hints.get(decl.name, "missing"))
    assert not wrong, f"Settings' typed accessors disagree with the registry: {wrong}"
    stale = set(hints) - {s.name for s in settings.SETTINGS} - {"values", "sources"}
    assert not stale, f"typed accessors without a registry entry: {stale}"
    loaded = settings.load(env={})
    for decl in settings.SETTINGS:
        value = getattr(loaded, decl.name)
        assert value is None or type(value) is decl.type, (decl.name, value)


def test_defaults_have_the_declared_type_and_lie_within_the_bounds() -> None:
    for decl in settings.SETTINGS:
        assert decl.default is None or type(decl.default) is decl.type, decl.name
        if decl.bounds:
            assert decl.type in (int, float), decl.name
            assert decl.bounds[0] <= decl.default <= decl.bounds[1], decl.name


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PETCARE_ADVISOR_CONNECTION_USAGE_PCT": "101"}, "between 0 and 100"),
        ({"PETCARE_ADVISOR_CONNECTION_USAGE_PCT": "-0.5"}, "between 0 and 100"),
        ({"PETCARE_ADVISOR_CONNECTION_USAGE_PCT": "nan"}, "between 0 and 100"),
        ({"PETCARE_ADVISOR_IDLE_TRANSACTION_S": "inf"}, "between 0 and 604800"),
        ({"PETCARE_ADVISOR_SLOW_QUERY_CALLS": "0"}, "between 1 and"),
        ({"PETCARE_ADVISOR_XID_AGE": "2147483648"}, "between 0 and 2147483647"),
        ({"PETCARE_ADVISOR_XID_AGE": "1e9"}, "must be a whole number"),
        ({"PETCARE_MONITORING_LONG_QUERY_S": "-1"}, "between 0 and 604800"),
    ],
)
def test_values_outside_the_bounds_are_refused_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        settings.load(env=env)
    assert next(iter(env)) in caught.value.message


def test_bounds_hold_for_files_and_overrides_too(tmp_path: Path) -> None:
    cfg = tmp_path / "petcare.toml"
    cfg.write_text("advisor_cache_hit_pct = 150\n")
    with pytest.raises(ConfigError, match="between 0 and 100"):
        settings.load(env={}, config_file=cfg)
    with pytest.raises(ConfigError, match="between 0 and 100"):
        settings.load(env={}).with_overrides(advisor_cache_hit_pct=-1)
    assert settings.coerce("advisor_cache_hit_pct", "99.5") == 99.5
    with pytest.raises(ConfigError, match="unknown setting"):
        settings.coerce("advisor_nonsense", 1)


@pytest.mark.parametrize("line", ["max_rows = 10.7", "max_rows = true", "pool_timeout_s = false"])
def test_a_toml_float_or_boolean_is_not_quietly_made_a_number(tmp_path: Path, line: str) -> None:
    cfg = tmp_path / "petcare.toml"
    cfg.write_text(line + "\n")
    with pytest.raises(ConfigError, match="must be a"):
        settings.load(env={}, config_file=cfg)


def test_an_integer_is_a_fine_float(tmp_path: Path) -> None:
    cfg = tmp_path / "petcare.toml"
    cfg.write_text("pool_timeout_s = 3\n")
    loaded = settings.load(env={}, config_file=cfg)
    assert loaded.pool_timeout_s == 3.0 and type(loaded.pool_timeout_s) is float


def test_the_smtp_password_is_a_secret_setting() -> None:
    decl = settings.setting("smtp_password")
    assert decl.secret and decl.env_var == "PETCARE_SMTP_PASSWORD"
    loaded = settings.load(env={"PETCARE_SMTP_PASSWORD": "hunter2"})
    assert loaded.smtp_password == "hunter2"
    shown = {r["name"]: r["value"] for r in loaded.describe()}
    assert shown["smtp_password"] == "(set)"
    assert "hunter2" not in repr(loaded.describe()) and "hunter2" not in settings.markdown()


# Names under PETCARE_ that are not settings: PETCARE_CONFIG names the settings file (the CLI's
# --config sets it for the loader); the rest are one command's secret input, read by
# cli/common.py's read_secret/secret_url as the alternative to stdin or a prompt, never kept.
NOT_SETTINGS = {
    "PETCARE_CONFIG",
    "PETCARE_NEW_PASSWORD",
    "PETCARE_WEBHOOK_URL",
    "PETCARE_CONNECTION_URL",
    "PETCARE_CONNECTION_READ_URL",
    "PETCARE_CHANNEL_URL",  # alert channels: one-shot secret input, like the webhook URL
    "PETCARE_PAGERDUTY_KEY",
    "PETCARE_MCP_TOKEN",  # the MCP stdio server's API token: a secret, not a setting
    "PETCARE_SETTING_VALUE",  # `settings set` of a secret: one-shot input, never argv
}


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) of os.environ[...] / os.environ.get(...) / os.getenv(...) reads."""

    def is_environ(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ"
        )

    found = []
    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            if isinstance(node.ctx, ast.Load):
                key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and (
                (func.attr in ("get", "pop") and is_environ(func.value)) or func.attr == "getenv"
            ):
                key = node.args[0]
            elif isinstance(func, ast.Name) and func.id == "getenv":
                key = node.args[0]
        if key is not None:
            text = key.value if isinstance(key, ast.Constant) else ast.unparse(key)
            found.append((node.lineno, str(text)))
    return found


def test_no_module_outside_settings_reads_a_petcare_setting_from_the_environment() -> None:
    package = ROOT / "petcare_dba"
    registered = {s.env_var for s in settings.SETTINGS}
    assert not registered & NOT_SETTINGS
    direct, unknown = [], []
    for path in sorted(package.rglob("*.py")):
        if path.parent == package / "settings":  # the registry is where they are read
            continue
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        for line, key in _environ_reads_of(text):
            if key.startswith("PETCARE_") and key != "PETCARE_CONFIG":
                direct.append(f"{where}:{line} reads {key}")
        for name in set(re.findall(r"\bPETCARE_[A-Z0-9_]+\b", text)):
            if name not in registered and name not in NOT_SETTINGS:
                unknown.append(f"{where}: {name}")
    assert not direct, f"read these through settings (petcare_dba/settings/): {direct}"
    assert not unknown, f"PETCARE_* names that are neither settings nor listed: {unknown}"


def _environ_reads_of(text: str) -> list[tuple[int, str]]:
    return _environment_reads(ast.parse(text))


def test_the_environment_scan_sees_every_way_of_reading() -> None:
    sample = (
        "import os\nfrom os import environ, getenv\n"
        "a = os.environ['PETCARE_A']\nb = os.environ.get('PETCARE_B', '')\n"
        "c = os.getenv('PETCARE_C')\nd = environ.get('PETCARE_D')\ne = getenv('PETCARE_E')\n"
        "f = os.environ.pop('PETCARE_F', None)\nos.environ['PETCARE_SET'] = '1'\n"
    )
    keys = [key for _, key in _environ_reads_of(sample)]
    assert sorted(keys) == [f"PETCARE_{c}" for c in "ABCDEF"]
