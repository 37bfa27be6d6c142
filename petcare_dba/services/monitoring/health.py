"""Health of every component: metadata store, key, connections, AI, collector, alerts, cache.

One report feeds `petcare-dba health [--format json]`, the UI's status badge and (issue 6) the HTTP
health endpoint. A component is `required` when the app cannot serve without it; the report is
healthy when every required component is up.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    ok: bool
    required: bool
    detail: str
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    components: tuple[Component, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "components": [asdict(c) for c in self.components]}


def _metadata(rt: Runtime) -> Component:
    started = time.perf_counter()
    try:
        with rt.store.tx() as tx:
            version = tx.value("meta_schema_version")
        stats = rt.store.stats()
    except PetcareError as exc:
        return Component("metadata", "metadata", False, True, exc.message)
    where = "embedded" if rt.server is not None else "external"
    return Component(
        "metadata",
        "metadata",
        True,
        True,
        f"{where} store, schema version {version}",
        round((time.perf_counter() - started) * 1000, 1),
        {"schema_version": version, "pool": stats},
    )


def _ai(rt: Runtime) -> Component:
    provider = rt.settings.ai_provider
    if provider == "disabled":
        return Component(
            "ai",
            "ai",
            True,
            False,
            "disabled (set PETCARE_AI_PROVIDER=gemini and PETCARE_GEMINI_API_KEY)",
        )
    if provider == "gemini" and not rt.settings.gemini_api_key:
        return Component(
            "ai", "ai", False, False, "gemini selected but PETCARE_GEMINI_API_KEY is not set"
        )
    if provider == "openai" and not rt.settings.openai_base_url:
        return Component(
            "ai", "ai", False, False, "openai selected but PETCARE_OPENAI_BASE_URL is not set"
        )
    return Component("ai", "ai", True, False, f"{provider} configured")


def _backup_store(rt: Runtime) -> Component:
    # Imported here: backups imports connections and explorer, which health does not need.
    from petcare_dba.services.backups import files, store_dir

    store = store_dir(rt.settings)
    loose = files.loose_modes(store)
    if loose:
        return Component(
            "backup_store",
            "security",
            False,
            False,
            f"{len(loose)} backup entries readable by other OS users (first: {loose[0]}); "
            "`petcare-dba up` tightens them, or chmod -R go-rwx the backup store",
            data={"loose": loose[:20]},
        )
    return Component("backup_store", "security", True, False, "backup store is private (0700/0600)")


def check(rt: Runtime, actor: Actor | None, *, connections_required: bool = False) -> HealthReport:
    """Probe each component; connections are probed as `actor` (RLS decides which)."""
    parts = [
        _metadata(rt),
        Component(
            "secret_key",
            "security",
            bool(rt.keyring.deks),
            True,
            f"{len(rt.keyring.deks)} data key version(s) unwrapped",
        ),
    ]
    if actor is not None and parts[0].ok:
        for conn in connections.list_connections(rt, actor):
            result = connections.check(rt, actor, conn.name)
            detail = (
                f"PostgreSQL {result.server_version}, {result.table_count} tables"
                if result.ok
                else result.error or "unreachable"
            )
            # An over-privileged read path is a problem (issue 12, Q3): viewers and the
            # assistant are refused on it until an admin adds a read-only credential.
            if result.read_path_problems:
                detail += "; read path over-privileged: " + "; ".join(result.read_path_problems)
            parts.append(
                Component(
                    f"connection:{conn.name}",
                    "connection",
                    result.ok and not result.read_path_problems,
                    connections_required,
                    detail,
                    result.latency_ms,
                    {
                        "primary_can": result.primary_can,
                        "read_can": result.read_can,
                        "read_path_problems": list(result.read_path_problems),
                    }
                    if result.ok
                    else {},
                )
            )
    parts.append(_ai(rt))
    parts.append(_backup_store(rt))
    if parts[0].ok:
        # Imported here: health_monitoring builds on this module's Component.
        from petcare_dba.services.monitoring import health_parts

        parts.extend(health_parts.components(rt))
    return HealthReport(all(c.ok for c in parts if c.required), tuple(parts))
