"""Streamlit's configuration: our defaults fill what the operator left unset; weaker values refuse.

Each case runs the launcher `petcare-dba up` uses (`python -m petcare_dba.ui.launch`) in a
fresh process whose working directory and home hold the operator's `.streamlit/config.toml`,
exactly where `streamlit run` looks for it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from petcare_dba.db.embedded import port_is_free
from petcare_dba.ui import streamlit_config

PRINT_ARGV = "import json; from petcare_dba.ui import launch; print(json.dumps(launch.argv()))"


def run_launcher(
    tmp_path: Path, project: str = "", home: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "home" / ".streamlit").mkdir(parents=True, exist_ok=True)
    (tmp_path / "work" / ".streamlit").mkdir(parents=True, exist_ok=True)
    (tmp_path / "home" / ".streamlit" / "config.toml").write_text(home)
    (tmp_path / "work" / ".streamlit" / "config.toml").write_text(project)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "PETCARE_"))}
    return subprocess.run(
        [sys.executable, "-c", PRINT_ARGV],
        cwd=tmp_path / "work",
        env={**clean, "HOME": str(tmp_path / "home"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_weaker_operator_values_are_refused_naming_option_and_file(tmp_path: Path) -> None:
    project = """
[server]
enableXsrfProtection = false
enableCORS = "false"
runOnSave = true
fileWatcherType = "auto"
maxUploadSize = 5000
baseUrlPath = "petcare"
[client]
showErrorDetails = "full"
toolbarMode = "developer"
[global]
developmentMode = true
"""
    home = "[browser]\ngatherUsageStats = true\n[server]\nenableStaticServing = true\n"
    done = run_launcher(tmp_path, project, home, STREAMLIT_SERVER_HEADLESS="false")
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "refusing to start" in line]
    named = {line.split("Streamlit option ")[1].split(" ")[0]: line for line in lines}
    assert set(named) == {
        "server.enableXsrfProtection",
        "server.enableCORS",  # a string "false" is not `true`: refused, not guessed
        "server.runOnSave",
        "server.fileWatcherType",
        "server.maxUploadSize",
        "client.showErrorDetails",
        "client.toolbarMode",
        "global.developmentMode",
        "browser.gatherUsageStats",
        "server.enableStaticServing",
        "server.headless",
    }
    project_file = str(tmp_path / "work" / ".streamlit" / "config.toml")
    assert project_file in named["server.enableXsrfProtection"]
    assert (
        str(tmp_path / "home" / ".streamlit" / "config.toml") in named["server.enableStaticServing"]
    )
    assert "STREAMLIT_SERVER_HEADLESS" in named["server.headless"]
    assert "between 1 and 200" in named["server.maxUploadSize"]
    assert not done.stdout  # nothing was started


def test_defaults_fill_only_what_the_operator_left_unset(tmp_path: Path) -> None:
    project = """
[server]
baseUrlPath = "petcare"
port = 8765
maxUploadSize = 10
enableWebsocketCompression = false
[client]
toolbarMode = "viewer"
"""
    done = run_launcher(tmp_path, project)
    assert done.returncode == 0, done.stderr
    argv = json.loads(done.stdout)
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert argv[1:5] == ["-m", "streamlit", "run", str(streamlit_config.SERVER_SCRIPT)]
    # the operator's safe and stronger choices stay theirs
    for option in ("baseUrlPath", "port", "maxUploadSize"):
        assert f"--server.{option}" not in flags
    assert "--client.toolbarMode" not in flags
    # ours for the rest
    assert flags["--server.enableXsrfProtection"] == "true"
    assert flags["--server.fileWatcherType"] == "none"
    assert flags["--client.showErrorDetails"] == "none"
    assert flags["--server.address"] == "127.0.0.1"
    # PetCare's own port setting, when given, is what `up` promised to serve on
    done = run_launcher(tmp_path, project, PETCARE_PORT="8777")
    argv = json.loads(done.stdout)
    assert dict(zip(argv[5::2], argv[6::2], strict=True))["--server.port"] == "8777"


@pytest.mark.slow
def test_the_server_refuses_weak_options_when_started_without_the_launcher(
    tmp_path: Path,
) -> None:
    """`streamlit run ui/server.py` by hand gets Streamlit's own (weaker) defaults: refused."""
    port = next(p for p in random.sample(range(9900, 10200), 50) if port_is_free(p))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "PETCARE_"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(streamlit_config.SERVER_SCRIPT),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
        ],
        cwd=tmp_path,
        env={**clean, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "refusing to serve: Streamlit option server.fileWatcherType = 'auto'" in done.stderr
    assert "client.showErrorDetails" in done.stderr


@pytest.mark.parametrize(
    ("option", "value", "ok"),
    [
        ("client.showErrorDetails", False, True),
        ("client.showErrorDetails", "stacktrace", False),
        ("client.toolbarMode", "minimal", True),
        ("client.toolbarMode", "auto", False),
        ("server.maxUploadSize", 200, True),
        ("server.maxUploadSize", 0, False),
        ("server.maxUploadSize", True, False),
        ("server.enableCORS", 1, False),
    ],
)
def test_hardened_predicates(option: str, value: object, ok: bool) -> None:
    accepts, _ = streamlit_config.HARDENED[option]
    assert accepts(value) is ok


def test_the_shipped_defaults_pass_their_own_check() -> None:
    defaults = streamlit_config.shipped_defaults()
    assert set(streamlit_config.HARDENED) <= set(defaults)
    for option, (accepts, _) in streamlit_config.HARDENED.items():
        assert accepts(defaults[option]), option
