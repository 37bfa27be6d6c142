"""A submitted statement flows one way through the sql package (issue 15).

The sql package is layered: `LAYERS` lists its modules from the entry points down to the leaves,
and a module may import and call only modules below it. So the statement goes down — engine.run
hands it to intake, then plan (parse, classify, decide, choose), then execute, which writes each
statement's paper trail through record — and nothing calls back up (record never calls plan,
execute never calls engine). Two proofs: the imports (ast) and a runtime trace of one SELECT
through `engine.run` on the real test database.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from petcare_dba.errors import NeedsConfirmation, Refused, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, target

__all__ = ["target"]  # the fixture is used by name

ROOT = Path(__file__).resolve().parents[1] / "petcare_dba" / "services"
SQL = ROOT / "sql"

# Top to bottom. Entry points first (explain runs through engine.run; export, verdict and the
# transaction take the one front half, `front`, as engine.run does), then the stages, then leaves.
# `intake` is the kernel's text check (services/intake.py), a leaf: engine checks text with it on
# entry and record bounds the rows' text with it.
LAYERS = [
    "table_edit",  # the grid's inline edits, sent through engine.run
    "explain",
    "export",
    "verdict",
    "transaction",
    "engine",
    "front",  # the one front half every entry takes (issue 16): parse, decide, confirm, open
    "cached",  # the engine's use of the opt-in result cache, after the final decision
    "history",
    "plan",
    "refusals",  # the plan stage's no: syntax and per-role decisions as a Refusal to record
    "safety",
    "effects",  # the classifier's walk of query bodies and calls, into safety's Facts
    "decide",
    "functions",
    "trust",
    "execute",
    "wrap",
    "record",
    "parse",
    "values",  # the value formatter: a leaf that export (and the UI and CLI) format with
    "intake",
]
# The stages engine.run (with its front half, `front`) hands a SELECT to, in order, each once.
HAND_OFFS = ["intake", "plan", "execute"]
PIPELINE = {"engine", "front"}


def _files() -> dict[str, Path]:
    files = {p.stem: p for p in SQL.glob("*.py") if p.stem != "__init__"}
    files["intake"] = ROOT / "intake.py"
    return files


def _runtime_imports(path: Path) -> set[str]:
    """The sql modules (and intake) a module imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = {
        id(node)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)
        for inner in stmt.body
        for node in ast.walk(inner)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("petcare_dba.services.sql."):
                found.add(name.split(".")[3])
            elif name == "petcare_dba.services.intake":
                found.add("intake")
    return found


def test_layers_name_every_module_of_the_sql_package() -> None:
    assert sorted(_files()) == sorted(LAYERS)


def test_each_module_imports_only_modules_below_it() -> None:
    files = _files()
    upward = [
        f"{name} imports {dep}"
        for name in LAYERS
        for dep in sorted(_runtime_imports(files[name]) - {name})
        if LAYERS.index(dep) < LAYERS.index(name)
    ]
    assert not upward, f"imports against the layers {LAYERS}: {upward}"


def test_no_module_uses_another_modules_private_names() -> None:
    """`from m import _x` and `m._x` for a petcare_dba module m, in the sql package and intake."""
    private = []
    for name, path in _files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("petcare_dba"):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        private.append(f"{name}: from {node.module} import {alias.name}")
                    modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                modules |= {a.asname or a.name for a in node.names if a.name.startswith("petcare")}
        private += [
            f"{name}: {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
    assert not private, private


def _traced() -> dict[str, str]:
    return {str(path): name for name, path in _files().items()}


@pytest.fixture
def trace() -> Iterator[list[tuple[str | None, str]]]:
    """(caller, callee) for every call into a traced module while the test runs.

    The caller is the nearest traced module down the stack: a call that goes through the
    database layer or another domain (executor calling wrap's proof back, audit escaping text
    with intake) counts as a call from the sql module below which it happened. Other modules
    (errors, settings, runtime, db, connections, security.audit) are services the stages use,
    not stages of the path; they call into the sql package only through a callback a sql module
    handed them. Code a module did not write (the methods dataclasses generate, filename
    '<string>') is not a visit: constructing a stage's data type is not calling the stage.
    """
    traced = _traced()
    calls: list[tuple[str | None, str]] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = traced.get(frame.f_code.co_filename)
        if callee is None:
            return
        caller = None
        back = frame.f_back
        while back is not None and caller is None:
            caller = traced.get(back.f_code.co_filename)
            back = back.f_back
        calls.append((caller, callee))

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def _collapsed(names: list[str]) -> list[str]:
    return [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]


def _measure(trace: list[tuple[str | None, str]]) -> tuple[list[str], list[str], str]:
    """engine.run's hand-offs, the calls up the layers, and the whole path for messages."""
    sys.setprofile(None)
    entries = _collapsed([callee for caller, callee in trace if caller != callee])
    hand_offs = _collapsed(
        [callee for caller, callee in trace if caller in PIPELINE and callee not in PIPELINE]
    )
    up = sorted(
        {
            f"{caller} → {callee}"
            for caller, callee in trace
            if caller is not None and LAYERS.index(callee) < LAYERS.index(caller)
        }
    )
    seen = sorted({callee for _, callee in trace}, key=LAYERS.index)
    where = (
        f"\nentries ({len(entries)} stops in {len(seen)} modules {seen}): {' → '.join(entries)}"
        f"\nengine.run hands off to ({len(hand_offs)}): {' → '.join(hand_offs)}"
        f"\ncalls up the layers {LAYERS}: {up}"
    )
    assert trace and trace[0] == (None, "engine"), where
    return hand_offs, up, where


def test_a_select_goes_down_the_layers_only(
    rt: Runtime, admin: Actor, target: Target, trace: list[tuple[str | None, str]]
) -> None:
    result = engine.run(rt, admin, "tgt", "SELECT id, note FROM t WHERE id > 1 ORDER BY id")
    hand_offs, up, where = _measure(trace)
    assert result.ok and result.results[0].row_count == 2
    # No call from a module to one above it: no stage calls back into an earlier one, and no
    # module is entered again while it is still on the stack.
    assert not up, where
    # engine.run hands the statement to each stage once, in order, each result to the next.
    assert hand_offs == HAND_OFFS, where
    print(where)  # the measured path, shown with pytest -s


@pytest.mark.parametrize(
    ("sql_text", "error", "hand_offs"),
    [
        ("SELECT 1\x00; DROP TABLE t", ValidationError, ["intake", "record"]),  # refused text
        ("SELEC id FROM t", ValidationError, ["intake", "plan", "record"]),  # syntax error
        ("BEGIN; SELECT 1; COMMIT; DROP TABLE t", Refused, ["intake", "plan", "record"]),
        ("DROP TABLE t", NeedsConfirmation, ["intake", "plan", "record"]),  # decided on the lease
    ],
)
def test_a_refusal_goes_down_to_record(
    rt: Runtime,
    admin: Actor,
    target: Target,
    trace: list[tuple[str | None, str]],
    sql_text: str,
    error: type[Exception],
    hand_offs: list[str],
) -> None:
    with pytest.raises(error):
        engine.run(rt, admin, "tgt", sql_text)
    measured, up, where = _measure(trace)
    assert not up, where
    assert measured == hand_offs, where
