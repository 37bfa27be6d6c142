"""U3 convention: no outside text reaches a Markdown-rendering Streamlit call unescaped.

An AST walk over petcare_dba/ui/ finds every call of a Streamlit element that renders Markdown
(body or label) and accepts only arguments that are the app's own text: string literals, i18n
lookups `t("key", ...)` whose arguments are themselves accepted, numbers (len, int, round,
formatted with a number format), ALL_CAPS constants, and the rendering rule's own functions in
ui/components/text.py (`plain`, `plain_all`; `trusted` marks the app's own Markdown files).
Local variables are followed to every value assigned to them. A new call that passes a variable,
an attribute or an f-string of one fails here until it goes through `text.plain`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "petcare_dba" / "ui"
# Elements whose first argument (body or label) Streamlit renders as Markdown.
MARKDOWN_CALLS = {
    "markdown", "write", "caption", "info", "warning", "error", "success", "toast",
    "expander", "popover", "status", "metric", "title", "header", "subheader", "button",
    "download_button", "link_button", "form_submit_button", "checkbox", "toggle", "radio",
    "text_input", "text_area", "number_input", "selectbox", "multiselect", "tabs",
    "page_link", "chat_input", "update", "write_stream",
}  # fmt: skip
# Keyword arguments rendered as Markdown too (help tooltips and captions are Markdown).
MARKDOWN_KWARGS = {"label", "body", "help", "captions"}
SAFE_FUNCS = {"t", "plain", "plain_all", "trusted", "badge"}
# Functions whose result is a number or a formatted number, whatever their arguments.
NUMBER_FUNCS = {
    "len",
    "int",
    "round",
    "float",
    "human_bytes",
    "human_ms",
    "number",
    "ago",
    "decimal",
}
# i18n placeholders that carry counts, sizes and durations (numbers render as themselves).
NUMBER_KEYS = {
    "n", "rows", "ms", "v", "id", "count", "shown", "total", "limit", "s", "days", "tokens_in",
    "tokens_out", "tables", "statements", "relations", "functions", "extensions", "lints", "new",
    "resolved", "seq", "pid", "added", "removed", "size", "checked", "revoked", "hours", "max",
    "minutes", "seconds", "bytes", "latency", "k", "version", "at", "since", "until", "when",
    "base", "pages", "page", "planning", "execution", "quota", "today", "conversation", "gain",
    "calls", "poll", "low", "high",
}  # fmt: skip
NOT_STREAMLIT = {"_LOG", "log", "logger", "LOG", "logging", "parser", "dict", "d"}


def _assignments(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Every value assigned to each local name in a function (or module) scope."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
                else:  # unpacking, attributes: the values are not followed
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            found.setdefault(name.id, []).append(ast.Name("?"))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
            if isinstance(node.target, ast.Name) and node.value is not None:
                found.setdefault(node.target.id, []).append(node.value)
        else:
            bound: list[ast.AST] = []
            if isinstance(node, ast.For | ast.comprehension):
                bound = [node.target]
            elif isinstance(node, ast.With):
                bound = [i.optional_vars for i in node.items if i.optional_vars is not None]
            elif isinstance(node, ast.arguments):
                bound = [node]
            for target in bound:  # loop variables, parameters: values from elsewhere
                for name in ast.walk(target):
                    if isinstance(name, ast.Name | ast.arg):
                        key = name.id if isinstance(name, ast.Name) else name.arg
                        found.setdefault(key, []).append(ast.Name("?"))
    return found


def _shallow(tree: ast.AST) -> list[ast.AST]:
    """The nodes of a module outside its functions."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.FunctionDef)]
    return out


_SCOPE: list[dict[str, list[ast.expr]]] = []


def _safe(node: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(node, ast.Name) and not node.id.isupper() and _SCOPE:
        # A local variable is safe when every value ever assigned to it is.
        values = _SCOPE[-1].get(node.id)
        if not values or node.id in seen:
            return False
        return all(_safe(v, seen | {node.id}) for v in values)
    return _safe_expr(node)


def _safe_expr(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(_safe(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        # A number format (`:.1f`, `:,`) fails on a str, so the value is a number.
        number_spec = node.format_spec is not None and any(
            isinstance(v, ast.Constant) and str(v.value)[-1:] in "fdg%,e"
            for v in node.format_spec.values  # type: ignore[attr-defined]
        )
        return number_spec or _safe(node.value)
    if isinstance(node, ast.BinOp):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_safe(e) for e in node.elts)
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return _safe(node.elt)
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and node.value.id.isupper()
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in NUMBER_FUNCS:
            return True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id.isupper():  # ICONS.get(level, ""): the app's own constants
                return True
        if name == "join" and isinstance(func, ast.Attribute) and _safe(func.value):
            # " · ".join(<generator of safe items>)
            arg = node.args[0] if node.args else None
            return isinstance(arg, ast.GeneratorExp | ast.ListComp) and _safe(arg.elt)
        if name not in SAFE_FUNCS:
            return False
        # badge() escapes its catalogue text itself and picks its colour from BADGES.
        if name in ("plain", "plain_all", "trusted", "badge"):
            return True
        # t("key" + area): the key picks a catalogue string, it is not shown itself.
        positional = name == "t" or all(_safe(a) for a in node.args)
        return positional and all(
            k.arg in NUMBER_KEYS or _safe(k.value) for k in node.keywords if k.value is not None
        )
    return False


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
    modules = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } - {"st"}
    found: list[str] = []
    for scope in scopes:
        _SCOPE.append(_assignments(scope))
        try:
            nodes = _shallow(tree) if scope is tree else list(ast.walk(scope))
            found += _calls(path, nodes, modules)
        finally:
            _SCOPE.pop()
    return sorted(set(found))


def _calls(path: Path, nodes: list[ast.AST], modules: set[str]) -> list[str]:
    found = []
    for node in nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in MARKDOWN_CALLS:
            continue
        receiver = node.func.value
        if isinstance(receiver, ast.Name) and (receiver.id in NOT_STREAMLIT | modules):
            continue  # a logger, or one of the app's own modules (ui.header(...))
        checked = [node.args[0]] if node.args else []
        checked += [k.value for k in node.keywords if k.arg in MARKDOWN_KWARGS]
        for arg in checked:
            if not _safe(arg):
                found.append(f"{path.name}:{node.lineno} {node.func.attr}({ast.unparse(arg)})")
    return found


@pytest.mark.parametrize("path", sorted(UI.rglob("*.py")), ids=lambda p: str(p.relative_to(UI)))
def test_markdown_calls_take_only_app_text_or_the_rendering_rule(path: Path) -> None:
    if path.name == "text.py":
        return  # the rule itself draws escaped text
    assert _violations(path) == [], "outside text must go through ui/components/text.py"


def test_the_check_catches_a_variable_an_fstring_and_an_i18n_argument(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "st.markdown(comment)\n"
        "st.caption(f'_{head[\"comment\"]}_')\n"
        "st.info(t('x', name=project.name))\n"
        "st.expander(f'{run.summary}')\n"
        "st.tabs([t('a'), name])\n"
        "st.markdown(f'{n:.1f} ms')\n"
        "st.caption(t('x', n=len(rows), name=plain(project.name)))\n"
    )
    found = _violations(bad)
    assert [v.split(" ")[0] for v in found] == [
        "bad.py:1", "bad.py:2", "bad.py:3", "bad.py:4", "bad.py:5"
    ]  # fmt: skip
