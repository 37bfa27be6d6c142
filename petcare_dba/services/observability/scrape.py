"""One `/metrics` scrape: the process's counters plus gauges read from state already kept.

At scrape time this reads the metadata pool's statistics, the target pools' counts, the audit
lag (statement intents still without an outcome) and the newest sample of every metric the
collector stored per connection. It never connects to a target database: a scrape costs two
small queries on the metadata store, whatever the number of connections. When the store cannot
answer, `petcare_metadata_up` is 0 and the scrape still succeeds with what the process knows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from petcare_dba.errors import PetcareError
from petcare_dba.services.observability import metrics
from petcare_dba.services.runtime import Runtime

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The first admin's identity reads the rows (RLS); finding it opens an admin connection, so it
# is looked up once a minute, not on every scrape.
_IDENTITY_TTL_S = 60.0
_identity_lock = threading.Lock()
_identity: dict[int, tuple[float, Any]] = {}

_METADATA_POOL = (
    ("pool_size", "gauge", "petcare_metadata_pool_connections", "Open connections."),
    ("pool_available", "gauge", "petcare_metadata_pool_idle", "Idle connections."),
    ("pool_max", "gauge", "petcare_metadata_pool_max", "Most connections the pool opens."),
    ("requests_waiting", "gauge", "petcare_metadata_pool_waiting", "Requests waiting now."),
    ("requests_num", "counter", "petcare_metadata_pool_requests", "Connections handed out."),
    ("requests_errors", "counter", "petcare_metadata_pool_request_errors", "Requests failed."),
    ("connections_errors", "counter", "petcare_metadata_pool_connect_errors", "Connects failed."),
    ("connections_lost", "counter", "petcare_metadata_pool_connections_lost", "Found broken."),
)


def _admin_identity(rt: Runtime) -> Any:
    now = time.monotonic()
    with _identity_lock:
        cached = _identity.get(id(rt))
        if cached and now - cached[0] < _IDENTITY_TTL_S:
            return cached[1]
    identity = rt.first_admin()
    with _identity_lock:
        _identity[id(rt)] = (now, identity)
    return identity


class RuntimeCollector:
    """The gauges of one runtime, read on each scrape."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        yield from metrics.REGISTRY.collect()
        yield from self._pools()
        yield from self._store()
        errors = 0
        for extra in metrics.registered():
            try:
                yield from list(extra())
            except Exception:  # one part's failure must not cost the whole scrape
                log.warning("a metrics collector failed: %s", getattr(extra, "__name__", extra))
                errors += 1
        failed = GaugeMetricFamily(
            "petcare_metrics_collector_errors",
            "Registered metric collectors that failed during this scrape.",
        )
        failed.add_metric([], errors)
        yield failed

    def _pools(self) -> Iterable[Metric]:
        try:
            stats = self.rt.store.stats()
        except Exception:  # a closed pool: the other metrics still matter
            stats = {}
        for key, kind, name, text in _METADATA_POOL:
            value = float(stats.get(key, 0))
            if kind == "gauge":
                gauge = GaugeMetricFamily(name, text)
                gauge.add_metric([], value)
                yield gauge
            else:
                counter = CounterMetricFamily(name, text)
                counter.add_metric([], value)
                yield counter
        target = self.rt.target_pools.stats()
        for key, text in (
            ("pools", "Target pools (one per user and stored connection in use)."),
            ("idle", "Idle target connections kept for reuse."),
            ("in_use", "Target connections checked out (statements running)."),
        ):
            gauge = GaugeMetricFamily(f"petcare_target_pool_{key}", text)
            gauge.add_metric([], float(target[key]))
            yield gauge

    def _store(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("petcare_metadata_up", "1 when the metadata store answered.")
        try:
            with self.rt.store.tx(_admin_identity(self.rt)) as tx:
                lag = tx.one("obs_audit_lag") or {}
                samples = tx.all("obs_latest_samples")
        except PetcareError as exc:
            log.warning("metrics: the metadata store did not answer: %s", exc.message)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for key, name, text in (
            (
                "open_intents",
                "petcare_audit_open_intents",
                "Statement intents (last day) without an outcome yet.",
            ),
            (
                "oldest_open_s",
                "petcare_audit_oldest_open_intent_seconds",
                "Age of the oldest of those intents (the reconcile job marks them unknown).",
            ),
            (
                "newest_row_age_s",
                "petcare_audit_newest_row_age_seconds",
                "Seconds since the newest audit row.",
            ),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], float(lag.get(key) or 0))
            yield gauge
        target = GaugeMetricFamily(
            "petcare_target_sample",
            "The newest value the collector sampled, by connection and metric (last hour).",
            labels=["connection", "metric"],
        )
        age = GaugeMetricFamily(
            "petcare_target_sample_age_seconds",
            "Seconds since the collector's newest sample of a connection.",
            labels=["connection"],
        )
        app = GaugeMetricFamily(
            "petcare_app_sample",
            "The newest app-wide or host value the collector sampled, by metric.",
            labels=["metric"],
        )
        newest: dict[str, float] = {}
        for row in samples:
            if row["connection"] is None:
                app.add_metric([row["metric"]], float(row["value"]))
                continue
            target.add_metric([row["connection"], row["metric"]], float(row["value"]))
            name = row["connection"]
            newest[name] = min(newest.get(name, float("inf")), float(row["age_s"]))
        for name, seconds in sorted(newest.items()):
            age.add_metric([name], seconds)
        yield from (target, age, app)


def render(rt: Runtime) -> bytes:
    """The Prometheus text exposition of this process (format 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(rt))
    return generate_latest(registry)
