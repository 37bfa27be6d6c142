"""The seed's quality gates as tests: ruff lint and format, mypy, and a security scan.

They run the real tools on the real tree, so the README's single test command covers them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_lint_including_security_rules() -> None:
    result = _run(str(BIN / "ruff"), "check", "petcare_dba", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", "petcare_dba", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_package() -> None:
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_finds_no_medium_or_high_issue() -> None:
    result = _run(str(BIN / "bandit"), "-q", "-r", "petcare_dba", "-ll", "-ii")
    assert result.returncode == 0, result.stdout + result.stderr


def test_streamlit_version_floor() -> None:
    """S5: CVE-2026-33682 is fixed in Streamlit 1.54.0."""
    from importlib.metadata import version

    major, minor = (int(x) for x in version("streamlit").split(".")[:2])
    assert (major, minor) >= (1, 54)


def test_every_benchmark_imports_and_uses_only_public_app_names() -> None:
    # A benchmark that reaches into a private name breaks silently on the next refactor (the
    # discovery bench did); importing each one catches it without running it.
    import ast
    import importlib

    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name.startswith("__"):
            continue
        tree = ast.parse(path.read_text())
        private = [
            f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("petcare_dba")
            for alias in node.names
            if alias.name.startswith("_")
        ]
        assert private == [], f"{path.name} imports private names: {private}"
        importlib.import_module(f"bench.{path.stem}")
