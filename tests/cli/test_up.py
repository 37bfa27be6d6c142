"""`petcare-dba up` as a user runs it: first start, second start, serve and Ctrl+C."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from petcare_dba.db.embedded import EmbeddedServer, port_is_free

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "petcare_dba.cli"]


def _env(data_dir: Path, pg_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}
    env.update({"PETCARE_DATA_DIR": str(data_dir), "PETCARE_EMBEDDED_PORT": str(pg_port), **extra})
    return env


@pytest.fixture
def tmp_path() -> Path:  # type: ignore[override]
    """A data-dir parent under /tmp: pytest's own tmp dirs are 0700, which the embedded
    server's system user cannot traverse when the tests run as root."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="petcare-up-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _free(start: int) -> int:
    return next(p for p in random.sample(range(start, start + 500), 50) if port_is_free(p))


def test_first_and_second_up_then_health(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir, _free(57000))
    started = time.monotonic()
    first = subprocess.run(
        [*CLI, "up", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    first_s = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    assert "first admin created: username 'admin', password:" in first.stdout
    assert "demo database 'petcare' ready" in first.stdout
    assert first_s < 60
    key = data_dir / "secrets" / "secret.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    started = time.monotonic()
    second = subprocess.run(
        [*CLI, "up", "--no-serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - started < 10
    assert "password" not in second.stdout  # the admin password is shown once only
    health = subprocess.run(
        [*CLI, "health", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(health.stdout)
    assert health.returncode == 0 and report["healthy"]
    demo = next(c for c in report["components"] if c["name"] == "connection:demo")
    assert demo["ok"], demo
    # Issue 12 (Q3): viewers and the assistant read the demo as a separate least-privilege role.
    assert demo["data"]["read_can"] == "petcare_demo_ro: read only", demo
    assert "signal" in demo["data"]["primary_can"] and not demo["data"]["read_path_problems"]


def test_missing_key_for_existing_credentials_refuses_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir, _free(57500), PETCARE_DEMO_ENABLED="false")
    assert (
        subprocess.run(
            [*CLI, "up", "--no-serve"], env=env, capture_output=True, timeout=120, check=False
        ).returncode
        == 0
    )
    (data_dir / "secrets" / "secret.key").unlink()
    result = subprocess.run(
        [*CLI, "health"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "secret key" in result.stdout + result.stderr
    result = subprocess.run(
        [*CLI, "up", "--no-serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "restore the key file" in result.stderr
    assert not (data_dir / "secrets" / "secret.key").exists()  # no silent replacement


def test_up_serves_and_ctrl_c_stops_app_and_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pg_port, web_port = _free(58000), _free(8700)
    env = _env(data_dir, pg_port, PETCARE_PORT=str(web_port), PETCARE_DEMO_ENABLED="false")
    proc = subprocess.Popen(
        [*CLI, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/_stcore/health",
                    timeout=2,
                ) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not come up")
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "embedded PostgreSQL stopped" in output
    assert not EmbeddedServer(data_dir, pg_port).running()
    assert port_is_free(web_port)
