"""Health components contributed by monitoring: collector freshness, alert delivery, cache.

`components(rt)` returns extra `health.Component`s for the health report (the CLI's
`petcare-dba health` and the HTTP endpoint add them to the foundation's list). None is required:
the app can serve without monitoring, but a load balancer or Prometheus probe sees the degradation
in the component list. Collector freshness is judged against three sampling intervals; alert
delivery against the last hour of attempts; the cache is the metadata store's buffer cache.
"""

from __future__ import annotations

from petcare_dba.errors import PetcareError
from petcare_dba.services.monitoring.health import Component
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users


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


def components(rt: Runtime) -> list[Component]:
    """Collector freshness, alert delivery and cache, as the first admin sees them."""
    try:
        identity = users.actor_for(rt, None).identity
    except PetcareError as exc:
        return [Component("collector", "monitoring", False, False, exc.message)]
    out = []
    for probe in (_collector, _delivery, _cache):
        try:
            out.append(probe(rt, identity))
        except PetcareError as exc:
            name = probe.__name__.strip("_").replace("delivery", "alert_delivery")
            out.append(Component(name, "monitoring", False, False, exc.message))
    return out
