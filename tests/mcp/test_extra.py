"""Without the `[mcp]` extra: the CLI still loads, `token` works, `mcp` says what to install."""

from __future__ import annotations

import subprocess
import sys

from petcare_dba import settings as settings_mod
from petcare_dba.services import mcp
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_db import process_env
from tests.mcp.fix_mcp import ROOT

_CLI = "import sys; sys.modules['mcp'] = None; from petcare_dba.cli import main; main()"


def test_without_the_mcp_package_mcp_says_install_the_extra(
    test_settings: settings_mod.Settings, rt: Runtime, admin: Actor
) -> None:
    token = mcp.tokens.create(rt, admin, "t").secret
    env = {**process_env(test_settings), "PYTHONPATH": str(ROOT), "PETCARE_MCP_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-c", _CLI, "mcp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input="",
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "install petcare-dba[mcp]" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
