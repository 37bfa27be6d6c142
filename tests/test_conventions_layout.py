"""Keeps the plan of the house (issue 15): domains with a face, arrows one way, no private reach.

The rules, each a test below: no import circle between modules, and none between domains;
a domain package's `__init__.py` only hands names on (its face) and lists them in `__all__`;
across domains only a face's names are imported; `ui/` and `cli/` reach the house through
`services/` only; nobody uses another module's private (`_name`) names. Imports under
`if TYPE_CHECKING:` are types for the checker, not arrows at run time, and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "petcare_dba"
ROOT = "petcare_dba"
SERVICES = f"{ROOT}.services"
# Packages whose inside is private to them: the rest of the house uses their face only.
FACED = (f"{ROOT}.ai", f"{ROOT}.db.target", f"{ROOT}.settings")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str  # the module (or package face) the source depends on
    names: tuple[str, ...]  # the names taken from target ("" for a whole module)
    line: int


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _package_of(module: str) -> str:
    return module if _is_package(module) else module.rsplit(".", 1)[0]


@cache
def arrows() -> tuple[Arrow, ...]:
    found: list[Arrow] = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(ROOT) and alias.name in MODULES:
                        found.append(Arrow(name, alias.name, ("",), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _package_of(name).split(".")[: len(name.split(".")) - node.level]
                    mod = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    mod = node.module or ""
                if not mod.startswith(ROOT):
                    continue
                plain: list[str] = []
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    if sub in MODULES:  # `from pkg import module`: an arrow to that module
                        found.append(Arrow(name, sub, ("",), node.lineno))
                    else:
                        plain.append(alias.name)
                if plain and mod in MODULES:
                    found.append(Arrow(name, mod, tuple(plain), node.lineno))
    return tuple(found)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), or self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def domain(module: str) -> str:
    """The room a module belongs to: a services package, a kernel module, or a top package."""
    parts = module.split(".")
    if module.startswith(SERVICES + ".") and len(parts) > 2:
        return ".".join(parts[:3])
    for faced in FACED:
        if module == faced or module.startswith(faced + "."):
            return faced
    return ".".join(parts[:2])


def faces() -> dict[str, Path]:
    """Every package whose inside is private: the services domains, ai/ and db/target/."""
    found = {n: p for n, p in MODULES.items() if _is_package(n) and n.startswith(SERVICES + ".")}
    found.update({n: MODULES[n] for n in FACED})
    return found


def _exported(face: Path) -> set[str]:
    tree = ast.parse(face.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return set(value)
    return set()


def test_no_import_circle_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for a in arrows():
        if a.source != a.target:
            graph.setdefault(a.source, set()).add(a.target)
    circles = _circles(graph)
    assert not circles, f"import circles: {circles}"


def test_no_import_circle_between_domains() -> None:
    # Importing any module of a package runs its face first, so domains must stand in layers.
    graph: dict[str, set[str]] = {}
    for a in arrows():
        src, dst = domain(a.source), domain(a.target)
        if src != dst:
            graph.setdefault(src, set()).add(dst)
    circles = _circles(graph)
    assert not circles, f"domains that import each other: {circles}"


@pytest.mark.parametrize("name", sorted(faces()))
def test_a_face_only_hands_names_on(name: str) -> None:
    path = faces()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{name}: a face says what the domain is for"
    handed: set[str] = set()
    for node in tree.body[1:]:
        if isinstance(node, ast.ImportFrom):
            assert node.module and (node.module.startswith(name) or node.module == "__future__"), (
                f"{name}: a face hands on its own modules' names only ({node.module})"
            )
            handed.update(a.asname or a.name for a in node.names if node.module != "__future__")
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            continue
        else:
            pytest.fail(f"{name}:{node.lineno}: a face defines nothing ({ast.unparse(node)[:60]})")
    assert handed == _exported(path), f"{name}: __all__ must list exactly what the face hands on"


def test_across_domains_only_a_face_is_imported() -> None:
    wrong: list[str] = []
    packaged = faces()
    for a in arrows():
        src, dst = domain(a.source), domain(a.target)
        if src == dst or dst not in packaged:
            continue
        exported = _exported(packaged[dst])
        if a.target == dst:  # names taken from the face itself
            missing = set(a.names) - exported - {""}
            if missing:
                wrong.append(f"{a.source}:{a.line} imports {sorted(missing)} not on {dst}'s face")
        elif a.target.rsplit(".", 1)[0] == dst and a.names == ("",):
            # `from face import module`: the face must hand that module on
            if a.target.rsplit(".", 1)[1] not in exported:
                wrong.append(f"{a.source}:{a.line} imports {a.target}, which the face omits")
        else:
            wrong.append(f"{a.source}:{a.line} reaches inside {a.target}")
    assert not wrong, "\n".join(wrong)


def test_ui_and_cli_reach_the_house_through_services() -> None:
    # `messages` is a kernel module like `errors`: the words of the errors, imported by every
    # layer (the UI says them in the user's language).
    allowed = (
        SERVICES,
        f"{ROOT}.errors",
        f"{ROOT}.messages",
        f"{ROOT}.settings",
        f"{ROOT}.ui",
        f"{ROOT}.cli",
    )
    wrong = [
        f"{a.source}:{a.line} imports {a.target}"
        for a in arrows()
        if a.source.startswith((f"{ROOT}.ui", f"{ROOT}.cli"))
        and not (a.target == ROOT or a.target.startswith(allowed))
    ]
    assert not wrong, "\n".join(wrong)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_name_is_used_across_modules() -> None:
    wrong: list[str] = []
    for a in arrows():
        if a.source != a.target and any(_private(n) for n in a.names):
            wrong.append(f"{a.source}:{a.line} takes {a.names} from {a.target}")
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = {
            (alias.asname or alias.name.rsplit(".", 1)[-1])
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(ROOT)
            for alias in node.names
            if f"{node.module}.{alias.name}" in MODULES
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _private(node.attr)
            ):
                wrong.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_checker_sees_the_house() -> None:
    # A checker that reads nothing passes everything: prove it reads the arrows it guards.
    assert len(MODULES) > 100
    assert len(arrows()) > 400
    assert {f"{SERVICES}.sql", f"{SERVICES}.security", f"{ROOT}.db.target"} <= set(faces())
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
