"""Health of every component: metadata store, key, connections, AI, collector, jobs, alerts, cache.

One report feeds `petcare-dba health [--format json]`, the UI's status badge and (issue 6) the HTTP
health endpoint. A component is `required` when the app cannot serve without it; the report is
healthy when every required component is up.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.services import backups, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users


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


def _installed(module: str) -> bool:
    """Whether an optional package (an extra of the install) can be imported, without importing."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package ("google") is missing too
        return False


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
    if provider == "gemini" and not _installed("google.genai"):
        return Component(
            "ai",
            "ai",
            False,
            False,
            "gemini selected but google-genai is not installed: install petcare-dba[ai]",
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
    store = backups.store_dir(rt.settings)
    loose = backups.files.loose_modes(store)
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


def _app_cache(rt: Runtime) -> Component:
    """The app's own cache (issue 18): degraded when Redis or the invalidation bus is down."""
    h = rt.cache.health()
    detail = f"{h.backend} backend, invalidation over {h.bus}" + (
        f"; degraded: {h.detail}" if h.degraded else ""
    )
    data = {k: v for k, v in asdict(h).items() if k != "detail"}
    return Component("app_cache", "cache", not h.degraded, False, detail, data=data)


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
    parts.append(_app_cache(rt))
    parts.append(_backup_store(rt))
    if parts[0].ok:
        parts.extend(monitoring_components(rt))
    return HealthReport(all(c.ok for c in parts if c.required), tuple(parts))


# Components contributed by monitoring: collector freshness, alert delivery, cache. None is
# required (the app serves without monitoring), but a probe sees the degradation in the list.
def _collector(rt: Runtime, identity: object) -> Component:
    if not rt.settings.monitoring_enabled:
        return Component("collector", "monitoring", True, False, "disabled (monitoring_enabled)")
    interval = float(rt.settings.monitoring_interval_s)
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        rows = tx.all("mon_state_list")
    stale = [
        r["name"]
        for r in rows
        if r["age_s"] is None or r["age_s"] > 3 * interval or r["last_error"]
    ]
    ages = [r["age_s"] for r in rows if r["age_s"] is not None]
    detail = (
        f"{len(rows) - len(stale)}/{len(rows)} connection(s) sampled within {3 * interval:g} s"
        + (f"; stale or failing: {', '.join(stale)}" if stale else "")
    )
    return Component(
        "collector",
        "monitoring",
        not stale,
        False,
        detail,
        data={"oldest_sample_s": max(ages) if ages else None, "stale": stale},
    )


def _jobs(rt: Runtime, identity: object) -> Component:
    """Each background job's leader, latest run and lag (seconds past its due time)."""
    lease = float(rt.settings.jobs_lease_s)
    found = {j.name: j for j in jobs.status(rt)}
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    for job in jobs.table(rt):
        st = found.get(job.name)
        if st is None or st.last_started is None:
            problems.append(f"{job.name}: never run")
            continue
        if st.lag_s > max(st.interval_s, lease):
            problems.append(f"{job.name}: {st.lag_s:.0f} s late")
        elif st.last_ok is False:
            problems.append(f"{job.name}: last run failed ({st.last_error})")
    for st in found.values():
        rows.append(
            {
                "name": st.name,
                "interval_s": st.interval_s,
                "leader": st.leader,
                "last_started": st.last_started.isoformat() if st.last_started else None,
                "last_finished": st.last_finished.isoformat() if st.last_finished else None,
                "last_ok": st.last_ok,
                "last_error": st.last_error,
                "lag_s": st.lag_s,
                "running": st.running,
            }
        )
    detail = (
        f"{len(found)} job(s) on record, each within its interval"
        if not problems
        else "; ".join(problems)
    )
    hint = "" if problems == [] or found else " (is `petcare-dba worker` or `up` running?)"
    return Component("jobs", "monitoring", not problems, False, detail + hint, data={"jobs": rows})


def _delivery(rt: Runtime, identity: object) -> Component:
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        row = tx.one("alert_delivery_health") or {}
    ok_n, failed = int(row.get("ok") or 0), int(row.get("failed") or 0)
    channels = int(row.get("channels") or 0)
    if channels == 0:
        return Component("alert_delivery", "monitoring", True, False, "no alert channel configured")
    # Healthy when the latest attempt got through: one past failure should not page anyone.
    healthy = row.get("last_ok") is not False
    detail = f"{ok_n} delivered, {failed} failed in the last hour to {channels} channel(s)"
    if failed:
        detail += f"; last error: {row.get('last_error')}"
    return Component(
        "alert_delivery",
        "monitoring",
        healthy,
        False,
        detail,
        data={"ok": ok_n, "failed": failed, "channels": channels},
    )


def _cache(rt: Runtime, identity: object) -> Component:
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        row = tx.one("mon_meta_cache") or {}
    pct = row.get("hit_pct")
    ok = pct is None or float(pct) >= 90
    detail = (
        "no reads yet"
        if pct is None
        else f"metadata store buffer cache hit ratio {float(pct):.1f}%"
    )
    return Component("cache", "cache", ok, False, detail, data={"hit_pct": pct})


def monitoring_components(rt: Runtime) -> list[Component]:
    """Collector freshness, jobs, alert delivery and cache, as the first admin sees them."""
    try:
        identity = users.actor_for(rt, None).identity
    except PetcareError as exc:
        return [Component("collector", "monitoring", False, False, exc.message)]
    out = []
    for probe in (_collector, _jobs, _delivery, _cache):
        try:
            out.append(probe(rt, identity))
        except PetcareError as exc:
            name = probe.__name__.strip("_").replace("delivery", "alert_delivery")
            out.append(Component(name, "monitoring", False, False, exc.message))
    return out
