"""Health of every component: metadata store, key, connections, AI, collector, jobs, alerts, cache.

One report feeds `petcare-dba health [--format json]`, the UI's status badge and (issue 6) the HTTP
health endpoint. A component is `required` when the app cannot serve without it; the report is
healthy when every required component is up. A component's detail is English (the CLI, the
JSON, the log) and, for the UI, the same sentences as catalogue keys with their values
(`detail_parts`), so the Settings page says them in the user's language (issue 19).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from petcare_dba.errors import PetcareError
from petcare_dba.messages import joined, recognised_in
from petcare_dba.services import backups, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

# The English of each sentence a component's detail is made of, by catalogue key: the CLI, the
# JSON and the log read `Component.detail` (these, filled in); the UI says `detail_parts` in the
# user's language (`i18n` takes the English from here, as a setting's help from the registry, and
# the other languages from `locales/health.<language>.json`). Numbers are values, not text, so the
# UI can write them the locale's way: rounded here rather than formatted with a spec.
DETAILS = {
    "health.metadata.embedded": "embedded store, schema version {version}",
    "health.metadata.external": "external store, schema version {version}",
    "health.secret_key": "{n} data key version(s) unwrapped",
    "health.connection.ok": "PostgreSQL {version}, {tables} tables",
    "health.connection.unreachable": "unreachable",
    "health.connection.over_privileged": "read path over-privileged: {problems}",
    "health.ai.disabled": "disabled (set PETCARE_AI_PROVIDER=gemini and PETCARE_GEMINI_API_KEY)",
    "health.ai.no_sdk": "gemini selected but google-genai is not installed: install "
    "petcare-dba[ai]",
    "health.ai.no_gemini_key": "gemini selected but PETCARE_GEMINI_API_KEY is not set",
    "health.ai.no_openai_url": "openai selected but PETCARE_OPENAI_BASE_URL is not set",
    "health.ai.configured": "{provider} configured",
    "health.backup_store.loose": "{n} backup entries readable by other OS users (first: "
    "{first}); `petcare-dba up` tightens them, or chmod -R go-rwx the backup store",
    "health.backup_store.private": "backup store is private (0700/0600)",
    "health.app_cache": "{backend} backend, invalidation over {bus}",
    "health.app_cache.degraded": "degraded: {reason}",
    "health.collector.disabled": "disabled (monitoring_enabled)",
    "health.collector.sampled": "{fresh}/{total} connection(s) sampled within {window} s",
    "health.collector.stale": "stale or failing: {names}",
    "health.jobs.ok": "{n} job(s) on record, each within its interval",
    "health.jobs.never_run": "{job}: never run",
    # The last of the list when no job is on record at all: the likely cause follows it.
    "health.jobs.never_run_hint": "{job}: never run (is `petcare-dba worker` or `up` running?)",
    "health.jobs.late": "{job}: {lag} s late",
    "health.jobs.failed": "{job}: last run failed ({error})",
    "health.alert_delivery.none": "no alert channel configured",
    "health.alert_delivery.counts": "{ok} delivered, {failed} failed in the last hour to "
    "{channels} channel(s)",
    "health.alert_delivery.last_error": "last error: {error}",
    "health.cache.no_reads": "no reads yet",
    "health.cache.hit": "metadata store buffer cache hit ratio {pct}%",
}


@dataclass(frozen=True)
class Phrase:
    """One sentence of a component's detail: a key of `DETAILS` and its values; the key "" is
    outside text (an error message from the driver or another service), `text`, said as it is."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        return DETAILS[self.key].format(**self.params) if self.key else str(self.params["text"])


def said(key: str, **params: Any) -> Phrase:
    """A sentence of `DETAILS` with its values."""
    return Phrase(key, params)


def outside(text: str) -> Phrase:
    """Outside text (an error message), said as it is in every language."""
    return Phrase("", {"text": text})


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    ok: bool
    required: bool
    detail: str  # English: the CLI, the JSON, the log
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    detail_parts: tuple[Phrase, ...] = ()  # the same detail, sentence by sentence (the UI)

    def say(self, one: Callable[[Phrase], str]) -> str:
        """The detail with each sentence said by `one` (`Phrase.english` gives `detail`)."""
        return "; ".join(one(p) for p in self.detail_parts) if self.detail_parts else self.detail


def part(
    name: str,
    kind: str,
    ok: bool,
    required: bool,
    *phrases: Phrase,
    latency_ms: float | None = None,
    data: dict[str, Any] | None = None,
) -> Component:
    """A component whose detail is `phrases`, in English and sentence by sentence."""
    english = "; ".join(p.english() for p in phrases)
    return Component(name, kind, ok, required, english, latency_ms, data or {}, phrases)


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    components: tuple[Component, ...]

    def as_dict(self) -> dict[str, Any]:
        """The report for `--format json` and /healthz: the English detail (no phrases)."""
        return {
            "healthy": self.healthy,
            "components": [
                {k: v for k, v in asdict(c).items() if k != "detail_parts"} for c in self.components
            ],
        }


def _metadata(rt: Runtime) -> Component:
    started = time.perf_counter()
    try:
        with rt.store.tx() as tx:
            version = tx.value("meta_schema_version")
        stats = rt.store.stats()
    except PetcareError as exc:
        return Component("metadata", "metadata", False, True, exc.message)
    where = "health.metadata.embedded" if rt.server is not None else "health.metadata.external"
    return part(
        "metadata",
        "metadata",
        True,
        True,
        said(where, version=version),
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        data={"schema_version": version, "pool": stats},
    )


def _installed(module: str) -> bool:
    """Whether an optional package (an extra of the install) can be imported, without importing."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package ("google") is missing too
        return False


def ai(rt: Runtime) -> Component:
    """The AI provider's readiness, from settings alone (the assistant page asks only this)."""
    provider = rt.settings.ai_provider
    if provider == "disabled":
        return part("ai", "ai", True, False, said("health.ai.disabled"))
    if provider == "gemini" and not _installed("google.genai"):
        return part("ai", "ai", False, False, said("health.ai.no_sdk"))
    if provider == "gemini" and not rt.settings.gemini_api_key:
        return part("ai", "ai", False, False, said("health.ai.no_gemini_key"))
    if provider == "openai" and not rt.settings.openai_base_url:
        return part("ai", "ai", False, False, said("health.ai.no_openai_url"))
    return part("ai", "ai", True, False, said("health.ai.configured", provider=provider))


def _backup_store(rt: Runtime) -> Component:
    store = backups.store_dir(rt.settings)
    loose = backups.files.loose_modes(store)
    if loose:
        return part(
            "backup_store",
            "security",
            False,
            False,
            said("health.backup_store.loose", n=len(loose), first=loose[0]),
            data={"loose": loose[:20]},
        )
    return part("backup_store", "security", True, False, said("health.backup_store.private"))


def _app_cache(rt: Runtime) -> Component:
    """The app's own cache (issue 18): degraded when Redis or the invalidation bus is down."""
    h = rt.cache.health()
    phrases = [said("health.app_cache", backend=h.backend, bus=h.bus)]
    if h.degraded:  # the cache layer's own reason (English, like a driver's error)
        phrases.append(said("health.app_cache.degraded", reason=h.detail))
    data = {k: v for k, v in asdict(h).items() if k != "detail"}
    return part("app_cache", "cache", not h.degraded, False, *phrases, data=data)


def check(rt: Runtime, actor: Actor | None, *, connections_required: bool = False) -> HealthReport:
    """Probe each component; connections are probed as `actor` (RLS decides which)."""
    parts = [
        _metadata(rt),
        part(
            "secret_key",
            "security",
            bool(rt.keyring.deks),
            True,
            said("health.secret_key", n=len(rt.keyring.deks)),
        ),
    ]
    if actor is not None and parts[0].ok:
        for conn in connections.list_connections(rt, actor):
            result = connections.check(rt, actor, conn.name)
            if result.ok:
                version, tables = result.server_version, result.table_count
                phrases = [said("health.connection.ok", version=version, tables=tables)]
            elif result.error:  # the driver's message, translated at the db/ boundary
                phrases = [outside(result.error)]
            else:
                phrases = [said("health.connection.unreachable")]
            # An over-privileged read path is a problem (issue 12, Q3): viewers and the
            # assistant are refused on it until an admin adds a read-only credential.
            if result.read_path_problems:
                problems = joined(result.read_path_problems)  # said item by item by the UI
                phrases.append(said("health.connection.over_privileged", problems=problems))
            parts.append(
                part(
                    f"connection:{conn.name}",
                    "connection",
                    result.ok and not result.read_path_problems,
                    connections_required,
                    *phrases,
                    latency_ms=result.latency_ms,
                    data={
                        "primary_can": result.primary_can,
                        "read_can": result.read_can,
                        "read_path_problems": list(result.read_path_problems),
                    }
                    if result.ok
                    else {},
                )
            )
    parts.append(ai(rt))
    parts.append(_app_cache(rt))
    parts.append(_backup_store(rt))
    if parts[0].ok:
        parts.extend(monitoring_components(rt))
    return HealthReport(all(c.ok for c in parts if c.required), tuple(parts))


# Components contributed by monitoring: collector freshness, alert delivery, cache. None is
# required (the app serves without monitoring), but a probe sees the degradation in the list.
def _collector(rt: Runtime, identity: object) -> Component:
    if not rt.settings.monitoring_enabled:
        return part("collector", "monitoring", True, False, said("health.collector.disabled"))
    interval = float(rt.settings.monitoring_interval_s)
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        rows = tx.all("mon_state_list")
    stale = [
        r["name"]
        for r in rows
        if r["age_s"] is None or r["age_s"] > 3 * interval or r["last_error"]
    ]
    ages = [r["age_s"] for r in rows if r["age_s"] is not None]
    window = 3 * interval
    phrases = [
        said(
            "health.collector.sampled",
            fresh=len(rows) - len(stale),
            total=len(rows),
            window=int(window) if window.is_integer() else window,
        )
    ]
    if stale:
        phrases.append(said("health.collector.stale", names=", ".join(stale)))
    return part(
        "collector",
        "monitoring",
        not stale,
        False,
        *phrases,
        data={"oldest_sample_s": max(ages) if ages else None, "stale": stale},
    )


def _jobs(rt: Runtime, identity: object) -> Component:
    """Each background job's leader, latest run and lag (seconds past its due time)."""
    lease = float(rt.settings.jobs_lease_s)
    found = {j.name: j for j in jobs.status(rt)}
    problems: list[Phrase] = []
    rows: list[dict[str, Any]] = []
    for job in jobs.table(rt):
        st = found.get(job.name)
        if st is None or st.last_started is None:
            problems.append(said("health.jobs.never_run", job=job.name))
            continue
        if st.lag_s > max(st.interval_s, lease):
            problems.append(said("health.jobs.late", job=job.name, lag=round(st.lag_s)))
        elif st.last_ok is False:
            problems.append(said("health.jobs.failed", job=job.name, error=st.last_error))
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
    if problems and not found:  # no job on record at all: say what probably is not running
        problems[-1] = said("health.jobs.never_run_hint", **problems[-1].params)
    phrases = problems or [said("health.jobs.ok", n=len(found))]
    return part("jobs", "monitoring", not problems, False, *phrases, data={"jobs": rows})


def _delivery(rt: Runtime, identity: object) -> Component:
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        row = tx.one("alert_delivery_health") or {}
    ok_n, failed = int(row.get("ok") or 0), int(row.get("failed") or 0)
    channels = int(row.get("channels") or 0)
    if channels == 0:
        return part("alert_delivery", "monitoring", True, False, said("health.alert_delivery.none"))
    # Healthy when the latest attempt got through: one past failure should not page anyone.
    healthy = row.get("last_ok") is not False
    phrases = [said("health.alert_delivery.counts", ok=ok_n, failed=failed, channels=channels)]
    if failed:
        phrases.append(
            said("health.alert_delivery.last_error", error=recognised_in(row.get("last_error")))
        )
    return part(
        "alert_delivery",
        "monitoring",
        healthy,
        False,
        *phrases,
        data={"ok": ok_n, "failed": failed, "channels": channels},
    )


def _cache(rt: Runtime, identity: object) -> Component:
    with rt.store.tx(identity) as tx:  # type: ignore[arg-type]
        row = tx.one("mon_meta_cache") or {}
    pct = row.get("hit_pct")
    ok = pct is None or float(pct) >= 90
    phrase = (
        said("health.cache.no_reads")
        if pct is None
        else said("health.cache.hit", pct=round(float(pct), 1))
    )
    return part("cache", "cache", ok, False, phrase, data={"hit_pct": pct})


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
