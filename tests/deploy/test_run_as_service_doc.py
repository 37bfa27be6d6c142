"""README "Run as a service": the commands it names are ones the CLI accepts, its files exist.

Every `petcare-dba ...` line of the section is parsed by the real CLI with its arguments, and each
command path answers `--help` with exit 0 as a real process. The worker and the processes
themselves are tested with the worker (issue 17); `tests/deploy/test_deploy_files.py` checks the
files the section points to.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.deploy.fix_deploy import REGISTRY, ROOT, accepts, commands_in, readme_section

SECTION = readme_section("Run as a service")
COMMANDS = commands_in(SECTION)


def test_the_section_walks_through_migrate_worker_and_two_app_processes() -> None:
    paths = [" ".join(c[:2]) for c in COMMANDS]
    assert "petcare-dba worker" in paths
    serving = [c for c in COMMANDS if c[1] == "up" and "--no-serve" not in c]
    assert len(serving) == 2 and len({c[c.index("--port") + 1] for c in serving}) == 2
    assert any(c[1] == "up" and "--no-serve" in c for c in COMMANDS)


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c[1:]) for c in COMMANDS])
def test_every_command_of_the_section_is_accepted_by_the_cli(argv: list[str]) -> None:
    accepts(argv)


_HELP = """
import sys
from petcare_dba.cli import app
for path in sys.argv[1:]:
    try:
        app(args=[*path.split()[1:], "--help"], prog_name="petcare-dba")
    except SystemExit as exc:
        print("EXIT", path, exc.code, flush=True)
"""


def _path(argv: list[str]) -> str:
    """The command path of an argv (`petcare-dba keys generate`); a command the CLI lacks keeps
    its first word, so its `--help` fails below."""
    try:
        return accepts(argv)
    except AssertionError:
        return " ".join(argv[:2])


@pytest.mark.slow  # one interpreter importing the whole CLI: 2-5 s on the shared machine
def test_each_command_answers_help_in_a_real_process() -> None:
    # One interpreter for every path: each `--help` goes through the app's own entry, and the
    # CLI's import cost is paid once.
    paths = sorted({_path(c) for c in COMMANDS})
    result = subprocess.run(
        [sys.executable, "-c", _HELP, *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    exits = {
        " ".join(ln.split()[1:-1]): ln.split()[-1]
        for ln in result.stdout.splitlines()
        if ln.startswith("EXIT ")
    }
    assert exits == {p: "0" for p in paths}, (exits, result.stderr[-500:])


def test_the_settings_and_files_it_names_exist() -> None:
    named = set(re.findall(r"\b(PETCARE_[A-Z0-9_]+)\b", SECTION))
    assert named and not named - set(REGISTRY), named - set(REGISTRY)
    for path in re.findall(r"`((?:deploy|docs)/[\w./-]+|constraints\.txt)`?", SECTION):
        if not path.endswith("/.env"):  # the operator's own file, from petcare.env.example
            assert (ROOT / path.rstrip(".")).exists(), path
