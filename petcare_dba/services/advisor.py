"""Run the advisor's lints against a target database and return findings.

Each lint is a read-only query in `advisor/lints/NNNN_name.sql` returning the shared columns; a
lint that fails (missing extension, permission) is reported as unavailable with its error
instead of failing the whole run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from petcare_dba.db import target
from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

_LINT = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LEVELS = ("ERROR", "WARN", "INFO")


@dataclass(frozen=True)
class Lint:
    number: int
    name: str
    sql: str
    doc: str


@dataclass(frozen=True)
class Finding:
    name: str
    title: str
    level: str
    category: str
    object: str
    detail: str
    remediation: str
    cache_key: str


@dataclass(frozen=True)
class AdvisorRun:
    findings: tuple[Finding, ...]
    unavailable: tuple[tuple[str, str], ...]


def lints() -> list[Lint]:
    """Every lint with its documentation, in number order."""
    root = resources.files("petcare_dba") / "advisor"
    found = []
    for entry in (root / "lints").iterdir():
        match = _LINT.match(entry.name)
        if not match:
            continue
        doc = root / "docs" / entry.name.replace(".sql", ".md")
        found.append(
            Lint(
                int(match.group(1)),
                match.group(2),
                entry.read_text(encoding="utf-8"),
                doc.read_text(encoding="utf-8") if doc.is_file() else "",
            )
        )
    return sorted(found, key=lambda lint: lint.number)


def run(rt: Runtime, actor: Actor, conn_name: str) -> AdvisorRun:
    """Run every lint in a read-only transaction; failures become 'unavailable'."""
    url = connections.resolve_url(rt, actor, conn_name)
    app = target.application_name(actor.username, actor.session_id)
    findings: list[Finding] = []
    unavailable: list[tuple[str, str]] = []
    for lint in lints():
        try:
            rows = target.read_text(
                url, app, lint.sql, connect_timeout=int(rt.settings.connect_timeout_s)
            )
        except PetcareError as exc:
            unavailable.append((lint.name, exc.message))
            continue
        findings.extend(Finding(**row) for row in rows)
    findings.sort(key=lambda f: (LEVELS.index(f.level), f.name, f.object))
    return AdvisorRun(tuple(findings), tuple(unavailable))
