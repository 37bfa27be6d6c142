"""Helpers of the deployment-file tests: the files, parsed, and the real CLI's verdict on an argv.

No Docker daemon or cluster runs here, so the tests hold the files to what can be checked: they
parse, the commands they run are ones the real Typer app accepts (parsed by the app itself, the
way `petcare-dba` would parse them, without running them), and the settings they pass exist.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import typer.main
import yaml

from petcare_dba.cli import app
from petcare_dba.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
REGISTRY = {s.env_var: s for s in SETTINGS}


def accepts(argv: list[str]) -> str:
    """Parse `petcare-dba ARGV` with the real CLI; returns the command path, raises if refused.

    Each level's `make_context` parses its own options exactly as `petcare-dba` does (an unknown
    command or option, a missing argument or a bad value raises click's UsageError).
    """
    assert argv and argv[0] == "petcare-dba", argv
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("petcare-dba", list(argv[1:]))
    path = ["petcare-dba"]
    while hasattr(command, "commands"):
        rest = list(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", []))
        rest += ctx.args
        assert rest, f"{' '.join(argv)}: no sub-command"
        name, rest = rest[0], rest[1:]
        sub = command.commands.get(name)
        assert sub is not None, f"{' '.join(argv)}: the CLI has no command {name!r}"
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
        path.append(name)
    return " ".join(path)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile: continuations joined, comments dropped."""
    lines: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        word, _, rest = text.partition(" ")
        lines.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continuation"
    return lines


def exec_form(args: str) -> list[str]:
    """The argv of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD (a JSON array)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def stages(lines: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, split at FROM (each list starts with its FROM)."""
    out: list[list[tuple[str, str]]] = []
    for word, rest in lines:
        if word == "FROM":
            out.append([])
        if out:
            out[-1].append((word, rest))
    return out


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def kube_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(KUBE.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def image_cmd() -> list[str]:
    cmds = [exec_form(rest) for word, rest in stages(dockerfile())[-1] if word == "CMD"]
    assert len(cmds) == 1, "the runtime stage needs exactly one CMD"
    return cmds[0]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


def commands_in(markdown: str) -> list[list[str]]:
    """Every `petcare-dba ...` command line of the fenced shell blocks, as argv.

    Leading `VAR=value` assignments and a `.venv/bin/` prefix are dropped; `&&`-chains are split;
    trailing `&` and comments go.
    """
    out: list[list[str]] = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", markdown, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    words = words[1:]
                while words and words[-1] == "&":
                    words = words[:-1]
                if words and words[0].endswith("petcare-dba"):
                    out.append(["petcare-dba", *words[1:]])
    return out
