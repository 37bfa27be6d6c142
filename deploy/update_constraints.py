"""Regenerate constraints.txt: one pip resolution of `.[all,dev]`, written as name==version pins.

By default the current pins are kept (passed to pip as constraints), so adding a dependency pins
it and its new requirements without moving anything else; `--fresh` resolves everything anew
(newest versions). Run from the repository root with the project's virtualenv:

    .venv/bin/python deploy/update_constraints.py [--fresh]

then reinstall (`pip install -c constraints.txt -e ".[dev]"`) and run
tests/unit/test_packaging_constraints.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "constraints.txt"
HEADER = """\
# Versions CI installs with: pip install -c constraints.txt -e ".[dev]" (and the image,
# deploy/Dockerfile). One resolution of ".[all,dev]", written by deploy/update_constraints.py;
# tests/unit/test_packaging_constraints.py checks the pins against pyproject's floors.
"""
# The virtualenv's own tools: pip upgrades itself outside the constraints.
SKIP = {"petcare-dba", "pip", "setuptools", "wheel"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(fresh: bool) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run"]
        argv += ["--ignore-installed", "--report", str(report)]
        if not fresh and TARGET.exists():
            argv += ["-c", str(TARGET)]
        subprocess.run([*argv, ".[all,dev]"], cwd=ROOT, check=True)  # noqa: S603 - fixed argv
        data = json.loads(report.read_text(encoding="utf-8"))
    return {
        norm(item["metadata"]["name"]): item["metadata"]["version"]
        for item in data["install"]
        if norm(item["metadata"]["name"]) not in SKIP
    }


def main() -> None:
    pins = resolve(fresh="--fresh" in sys.argv[1:])
    lines = [f"{name}=={version}" for name, version in sorted(pins.items())]
    TARGET.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{TARGET.name}: {len(lines)} pins")


if __name__ == "__main__":
    main()
