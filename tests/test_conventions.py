"""Keeps the house honest: layers, docstrings, module size, SQL names, cache hygiene (S1, AI5)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from petcare_dba.db import migrations, queries

PACKAGE = Path(__file__).resolve().parents[1] / "petcare_dba"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers(path: Path) -> None:
    rel = path.relative_to(PACKAGE).as_posix()
    imported = _imports(path)
    if not rel.startswith("db/"):
        assert not any(
            m == "psycopg" or m.startswith(("psycopg.", "psycopg_pool")) for m in imported
        ), f"{rel}: only db/ may import psycopg"
    if rel.startswith(("services/", "db/", "ai/", "advisor/", "settings/")) or rel == "errors.py":
        assert not any(m.startswith("streamlit") for m in imported), (
            f"{rel}: only ui/ may import streamlit"
        )
    if rel.startswith("db/"):
        assert not any(
            m.startswith(("petcare_dba.services", "petcare_dba.ui")) for m in imported
        ), f"{rel}: db/ must not import upper layers"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_has_a_docstring_and_stays_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring"
    limit = 200 if "/ui/pages/" in path.as_posix() else 450
    assert text.count("\n") <= limit, f"{path.name} has {text.count(chr(10))} lines (> {limit})"


def test_named_queries_parse_and_are_described() -> None:
    found = queries.all_queries()
    assert len(found) >= 20
    for name, query in found.items():
        assert query.description, f"query {name} has no description line"
        assert query.text.strip(), name


def test_migrations_are_named_and_contiguous() -> None:
    assert migrations.available()


def _decorated_with_cache(node: ast.FunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
            return True
    return False


def test_cached_functions_take_no_user_data_and_no_module_user_state() -> None:
    """S1: st.cache_* functions must not take or return per-user data."""
    for path in (PACKAGE / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and _decorated_with_cache(node):
                assert not node.args.args, f"{path.name}:{node.name} takes arguments"
                returns = ast.unparse(node.returns) if node.returns else ""
                assert returns in ("Runtime",), f"{path.name}:{node.name} returns {returns}"


def test_no_dynamic_code_execution() -> None:
    """AI5: nothing passes text to exec/eval/compile or a shell."""
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("exec", "eval", "compile"), path.name
            if isinstance(node, ast.keyword) and node.arg == "shell":
                assert not (isinstance(node.value, ast.Constant) and node.value.value), path.name


REQUIREMENT_ID = (
    r"\b(?:Q1[0-5]|Q[1-9]|F[1-7]|C[1-6]|L[1-7]|S[1-5]|R[1-6]|AI[1-6]|A[1-7]|T[1-4]|U[1-7])\b"
)


def test_requirements_map_names_real_tests() -> None:
    """docs/requirements.md names only tests that exist, and defines every id the code cites."""
    import re

    root = PACKAGE.parent
    text = (root / "docs" / "requirements.md").read_text(encoding="utf-8")
    defined = set(re.findall(r"^\| (\w+) \|", text, flags=re.M))
    missing = []
    for path, name in re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text):
        file = root / path
        if not file.is_file():
            missing.append(path)
            continue
        if name:
            tree = ast.parse(file.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            if name not in names:
                missing.append(f"{path}::{name}")
    assert not missing, f"docs/requirements.md names tests that do not exist: {missing}"
    cited: set[str] = set()
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.sql"), *(root / "tests").rglob("*.py")]:
        cited.update(re.findall(REQUIREMENT_ID, path.read_text(encoding="utf-8")))
    undefined = sorted(cited - defined)
    assert not undefined, f"ids cited in code or tests but not defined: {undefined}"
