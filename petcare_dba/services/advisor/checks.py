"""Run the advisor's lints against a target database, store runs, and manage exclusions.

Each lint is a read-only query in `advisor/lints/NNNN_name.sql` returning the shared columns
(name, title, level, category, object, detail, remediation, cache_key). All lints of a run share
one READ ONLY transaction; each runs under a savepoint, so a lint that fails (missing extension,
permission) is reported as unavailable with its error instead of failing the run. Thresholds
are settings of the registry (`advisor_*`, and `monitoring_long_query_s`, which the metrics share)
that a lint names as `%(setting)s` parameters (so its literal `%` are written `%%`); a run takes
them from the resolved settings, and callers may override them per run, checked against the
registry's types and bounds. Nothing in the target database can move them. A stored run
records new and resolved findings since the previous run; findings excluded by cache_key are
left out. The newest run's count of ERROR findings feeds the `advisor-error-finding` alert rule.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from petcare_dba import settings
from petcare_dba.db import target
from petcare_dba.db.target import session
from petcare_dba.errors import ConfigError, NotFound, PetcareError
from petcare_dba.messages import say
from petcare_dba.services import alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users

_LINT = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LEVELS = ("ERROR", "WARN", "INFO")
RUN_ROLE = "analyst"  # the least role that may run the advisor (viewers read stored runs)
_PLACEHOLDER = re.compile(r"%\(([a-z0-9_]+)\)s")


@dataclass(frozen=True)
class Lint:
    number: int
    name: str
    sql: str
    doc: str
    # The doc in other languages: `docs/NNNN_name.<language>.md` beside the English one.
    translations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def doc_in(self, language: str) -> str:
        """The doc in `language` when it has one, else the English doc."""
        return self.translations.get(language) or self.doc

    @property
    def needs_statements(self) -> bool:
        """Whether the lint reads pg_stat_statements (reported unavailable without it)."""
        return re.search(r"\bFROM\s+pg_stat_statements\b", self.sql) is not None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The settings this lint reads as `%(name)s` parameters (its thresholds), in order."""
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.sql)))

    def arguments(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The parameters to run `sql` with, from resolved settings' values (or `thresholds`).

        None when the lint has none: psycopg then leaves its `%` alone, which is why only lints
        with placeholders are written with `%%`.
        """
        return {name: values[name] for name in self.parameters} or None


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
    status: str = "open"


@dataclass(frozen=True)
class AdvisorRun:
    findings: tuple[Finding, ...]
    unavailable: tuple[tuple[str, str], ...]
    excluded: tuple[Finding, ...] = ()
    resolved: tuple[Finding, ...] = ()
    run_id: int | None = None
    at: datetime | None = None

    def count(self, level: str) -> int:
        return sum(1 for f in self.findings if f.level == level)


def lints() -> list[Lint]:
    """Every lint with its documentation, in number order."""
    return list(_packaged_lints())


@functools.cache
def _packaged_lints() -> tuple[Lint, ...]:
    # The lints ship with the package: read once per process, not on every page rerun.
    root = resources.files("petcare_dba") / "advisor"
    found = []
    for entry in (root / "lints").iterdir():
        match = _LINT.match(entry.name)
        if not match:
            continue
        stem = entry.name.removesuffix(".sql")
        doc = root / "docs" / f"{stem}.md"
        translations = {
            other.name.removesuffix(".md").split(".", 1)[1]: other.read_text(encoding="utf-8")
            for other in (root / "docs").iterdir()
            if other.name.startswith(f"{stem}.") and other.name.count(".") == 2
        }
        found.append(
            Lint(
                int(match.group(1)),
                match.group(2),
                entry.read_text(encoding="utf-8"),
                doc.read_text(encoding="utf-8") if doc.is_file() else "",
                translations,
            )
        )
    return tuple(sorted(found, key=lambda lint: lint.number))


def thresholds(
    base: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every lint threshold by setting name: `base` (resolved settings' values; default: the
    registry's defaults), then `overrides`, each coerced and bounds-checked by the registry.

    An override that is not a lint threshold is refused rather than ignored: a misspelt name
    would otherwise run the lint at its default and look like a clean bill of health.
    """
    names = sorted({name for lint in lints() for name in lint.parameters})
    values = {
        name: settings.setting(name).default if base is None else base[name] for name in names
    }
    for name, raw in (overrides or {}).items():
        if name not in values:
            raise ConfigError(
                say("msg.advisor.not_threshold", name=repr(name)),
                hint=say("msg.advisor.not_threshold.hint", names=", ".join(names)),
            )
        values[name] = settings.coerce(name, raw)
    return values


def run_lints(
    url: str,
    app_name: str,
    *,
    params: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
    only: tuple[str, ...] | None = None,
    connect_timeout: int = 10,
    timeout_ms: int = 30000,
) -> AdvisorRun:
    """Run lints in one READ ONLY transaction on `url`; failing lints become unavailable.

    Thresholds come from `base` (resolved settings' values, else the registry's defaults) with
    `params` overriding some of them for this run (see `thresholds`).
    """
    findings: list[Finding] = []
    unavailable: list[tuple[str, str]] = []
    values = thresholds(base, params)
    chosen = [lint for lint in lints() if only is None or lint.name in only]
    with session(url, app_name, timeout_ms=timeout_ms, connect_timeout=connect_timeout) as s:
        try:
            with s.savepoint():
                has_statements = bool(s.row("mon_target_pgss_path").get("path"))
        except PetcareError:
            has_statements = False
        for lint in chosen:
            if lint.needs_statements and not has_statements:
                unavailable.append(
                    (
                        lint.name,
                        "needs the pg_stat_statements extension in this database "
                        "(CREATE EXTENSION pg_stat_statements) and in shared_preload_libraries",
                    )
                )
                continue
            try:
                with s.savepoint():
                    rows = s.lint(f"{lint.number:04d}_{lint.name}", lint.arguments(values))
            except PetcareError as exc:
                unavailable.append((lint.name, exc.message))
                continue
            findings.extend(Finding(**row) for row in rows)
    findings.sort(key=lambda f: (LEVELS.index(f.level), f.name, f.object))
    return AdvisorRun(tuple(findings), tuple(unavailable))


def run(
    rt: Runtime, actor: Actor, conn_name: str, *, params: Mapping[str, Any] | None = None
) -> AdvisorRun:
    """Run every lint against a stored connection (nothing stored); exclusions applied."""
    url = connections.resolve_url(rt, actor, conn_name)
    result = run_lints(
        url,
        target.application_name(actor.username, actor.session_id),
        params=params,
        base=rt.settings.values,
        connect_timeout=rt.settings.connect_timeout_s,
    )
    excluded_keys = {e["cache_key"] for e in exclusions(rt, actor, conn_name)}
    kept = tuple(f for f in result.findings if f.cache_key not in excluded_keys)
    excluded = tuple(f for f in result.findings if f.cache_key in excluded_keys)
    return dataclasses.replace(result, findings=kept, excluded=excluded)


def _conn_id(rt: Runtime, actor: Actor, conn_name: str) -> int:
    with rt.store.tx(actor.identity) as tx:
        found = tx.value("mon_connection_id", {"name": conn_name})
    if found is None:
        raise NotFound(say("msg.connections.not_shared", name=repr(conn_name)))
    return int(found)


def run_and_store(
    rt: Runtime, actor: Actor, conn_name: str, *, params: Mapping[str, Any] | None = None
) -> AdvisorRun:
    """Run, compare with the previous run, store findings (new/open/resolved), feed alerts.

    Needs RUN_ROLE: a run costs the target a round of catalog queries, so viewers read the
    stored runs that the background job (as the system actor) and analysts make.
    """
    actor.require(RUN_ROLE, say("msg.access.running_advisor"))
    conn_id = _conn_id(rt, actor, conn_name)
    result = run(rt, actor, conn_name, params=params)
    with rt.store.tx(actor.identity) as tx:
        previous = {
            r["cache_key"]: r for r in tx.all("advisor_previous_findings", {"conn": conn_id})
        }
        current = []
        for f in result.findings:
            status = "open" if f.cache_key in previous else "new"
            current.append(dataclasses.replace(f, status=status))
        keys = {f.cache_key for f in current}
        excluded = {f.cache_key for f in result.excluded}
        resolved = [
            Finding(**{**row, "status": "resolved"})
            for key, row in previous.items()
            if key not in keys and key not in excluded
        ]
        new = sum(1 for f in current if f.status == "new")
        head = tx.one(
            "advisor_run_insert",
            {
                "conn": conn_id,
                "findings": len(current),
                "new": new,
                "resolved": len(resolved),
                "unavailable": json.dumps([list(u) for u in result.unavailable]),
            },
        )
        assert head is not None  # noqa: S101 - INSERT ... RETURNING
        tx.execute(
            "advisor_findings_insert",
            {
                "run": head["id"],
                "rows": json.dumps([dataclasses.asdict(f) for f in current + resolved]),
            },
        )
    _feed_alerts(rt, conn_id, sum(1 for f in current if f.level == "ERROR"))
    return dataclasses.replace(
        result,
        findings=tuple(current),
        resolved=tuple(resolved),
        run_id=int(head["id"]),
        at=head["at"],
    )


def _feed_alerts(rt: Runtime, conn_id: int, errors: int) -> None:
    """Record the ERROR count as a metric and evaluate the advisor rule (as the system admin)."""
    system = users.actor_for(rt, None)
    metrics = {"advisor_error_findings": float(errors)}
    with rt.store.tx(system.identity) as tx:
        tx.execute(
            "mon_samples_insert",
            {"conn": conn_id, "metrics": list(metrics), "values": list(metrics.values())},
        )
        notes = alerts.evaluate(tx, rt, conn_id, metrics)
    alerts.deliver(rt, notes)


def history(rt: Runtime, actor: Actor, conn_name: str, limit: int = 20) -> list[dict[str, Any]]:
    """Recent stored runs of a connection."""
    conn_id = _conn_id(rt, actor, conn_name)
    with rt.store.tx(actor.identity) as tx:
        return tx.all("advisor_runs_list", {"conn": conn_id, "limit": limit})


def stored_findings(rt: Runtime, actor: Actor, run_id: int) -> list[Finding]:
    """The findings stored for one run (new, open and resolved)."""
    with rt.store.tx(actor.identity) as tx:
        return [Finding(**r) for r in tx.all("advisor_run_findings", {"run": run_id})]


@dataclass(frozen=True)
class Stored:
    """What the advisor page shows: recent runs (newest first), the newest run's findings and
    the connection's exclusions."""

    runs: tuple[dict[str, Any], ...]
    findings: tuple[Finding, ...]
    exclusions: tuple[dict[str, Any], ...]


def stored(rt: Runtime, actor: Actor, conn_name: str, limit: int = 10) -> Stored:
    """The stored runs, the newest one's findings and the exclusions, in one transaction (the
    page's first paint: nothing runs against the target)."""
    with rt.store.tx(actor.identity) as tx:
        conn_id = tx.value("mon_connection_id", {"name": conn_name})
        if conn_id is None:
            raise NotFound(say("msg.connections.not_shared", name=repr(conn_name)))
        runs = tx.all("advisor_runs_list", {"conn": conn_id, "limit": limit})
        findings = tx.all("advisor_run_findings", {"run": runs[0]["id"]}) if runs else []
        excluded = tx.all("advisor_exclusions_list", {"conn": conn_id})
    return Stored(tuple(runs), tuple(Finding(**r) for r in findings), tuple(excluded))


def exclusions(rt: Runtime, actor: Actor, conn_name: str) -> list[dict[str, Any]]:
    """Excluded cache keys of a connection."""
    conn_id = _conn_id(rt, actor, conn_name)
    with rt.store.tx(actor.identity) as tx:
        return tx.all("advisor_exclusions_list", {"conn": conn_id})


def exclude(rt: Runtime, actor: Actor, conn_name: str, cache_key: str, reason: str = "") -> None:
    """Exclude a finding from future runs (dba); audited."""
    actor.require("dba", say("msg.access.excluding_advisor_findings"))
    conn_id = _conn_id(rt, actor, conn_name)
    with rt.store.tx(actor.identity) as tx:
        tx.execute(
            "advisor_exclusion_insert", {"conn": conn_id, "cache_key": cache_key, "reason": reason}
        )
    audit.record(
        rt.store,
        actor,
        "advisor.exclude",
        "ok",
        target=conn_name,
        connection_id=conn_id,
        detail={"cache_key": cache_key, "reason": reason},
    )


def include(rt: Runtime, actor: Actor, conn_name: str, cache_key: str) -> None:
    """Remove an exclusion (dba); audited."""
    actor.require("dba", say("msg.access.including_advisor_findings"))
    conn_id = _conn_id(rt, actor, conn_name)
    with rt.store.tx(actor.identity) as tx:
        if tx.value("advisor_exclusion_delete", {"conn": conn_id, "cache_key": cache_key}) is None:
            raise NotFound(
                say("msg.advisor.not_excluded", key=repr(cache_key), name=repr(conn_name))
            )
    audit.record(
        rt.store,
        actor,
        "advisor.include",
        "ok",
        target=conn_name,
        connection_id=conn_id,
        detail={"cache_key": cache_key},
    )
