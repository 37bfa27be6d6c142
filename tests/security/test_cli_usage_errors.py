"""CLI usage errors (issue 14): an unknown option, a missing argument or a bad `--format` choice
prints a usage line and the error on stderr and exits 2, for every command, never a traceback.

Every leaf command of the typer app is driven through `main()` (the installed script's entry
point) in-process; a sample also runs as a real subprocess. No database is needed: parsing
fails before any command body runs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main

from petcare_dba import cli


def _leaves(command: Any, path: list[str]) -> Iterator[list[str]]:
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _leaves(sub, [*path, name])
    else:
        yield path


def _params(path: list[str]) -> list[Any]:
    command: Any = typer.main.get_command(cli.app)
    for name in path:
        command = command.commands[name]
    return list(command.params)


COMMANDS = sorted(_leaves(typer.main.get_command(cli.app), []))


def _run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    saved = sys.argv
    sys.argv = ["petcare-dba", *argv]
    try:
        with pytest.raises(SystemExit) as info:
            cli.main()
    finally:
        sys.argv = saved
    out = capsys.readouterr()
    return int(info.value.code or 0), out.err + out.out


def test_the_command_tree_is_large() -> None:
    assert len(COMMANDS) > 50  # a renamed app would otherwise make this file test nothing


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_a_usage_error(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _run_main([*path, "--no-such-option-xyz"], capsys)
    assert code == 2, text
    assert "Usage:" in text and "No such option" in text and "Traceback" not in text


@pytest.mark.parametrize(
    "path",
    [p for p in COMMANDS if any(getattr(x, "required", False) for x in _params(p))],
    ids=" ".join,
)
def test_a_missing_argument_is_a_usage_error(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _run_main(path, capsys)
    assert code == 2, text
    assert "Usage:" in text and "Missing" in text and "Traceback" not in text


@pytest.mark.parametrize(
    "path",
    [p for p in COMMANDS if any("--format" in getattr(x, "opts", []) for x in _params(p))],
    ids=" ".join,
)
def test_a_bad_format_choice_is_a_usage_error(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    required = [x for x in _params(path) if getattr(x, "required", False)]
    # Fill required arguments with dummies so the bad choice is what parsing trips on.
    filler = ["x" for x in required if not getattr(x, "opts", [""])[0].startswith("-")]
    code, text = _run_main([*path, *filler, "--format", "no-such-format"], capsys)
    assert code == 2, text
    assert "Usage:" in text and "'no-such-format' is not one of" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["sql", "--bogus"],
        ["no-such-command"],
        ["project", "import"],
        ["backups", "list", "--format", "xml"],
        ["user", "set-role"],
    ],
    ids=" ".join,
)
def test_usage_errors_through_the_real_entry_point(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "petcare_dba.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Usage: ") and "Traceback" not in done.stderr + done.stdout
