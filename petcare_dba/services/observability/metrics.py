"""The process's Prometheus metrics: what the app counts as it goes, and the scrape's text.

Counters and histograms live in one registry per process (`REGISTRY`); each app instance exposes
its own, so a deployment of two instances is scraped twice and summed in PromQL (`sum by (...)`).
Labels take values from closed sets only (route names, page files, outcomes, roles, job and
channel kinds): a request for a made-up path or page cannot grow the series. Gauges that describe
shared state (pools, audit lag, the collector's samples) are read at scrape time by
`scrape.RuntimeCollector`; other parts add theirs with `register_collector` (the worker's job
gauges, the alert outbox), so this module imports nothing above the kernel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

# The paths the app serves itself; every other path is one of a few coarse kinds, so a scanner
# requesting random URLs adds no series.
ROUTES = ("/healthz", "/metrics", "/auth/frame", "/auth/session", "/auth/logout", "/auth/whoami")
OUTCOMES = ("ok", "error", "cancelled", "timeout", "refused", "unknown", "confirm")
ROLES = ("viewer", "analyst", "dba", "admin")

REQUESTS = Counter(
    "petcare_http_requests",
    "HTTP requests and websocket connections served, by route kind and status class.",
    ["route", "status"],
    registry=REGISTRY,
)
PAGE_RUNS = Counter(
    "petcare_page_runs",
    "Page script runs (a load or a widget action), by page.",
    ["page"],
    registry=REGISTRY,
)
STATEMENTS = Histogram(
    "petcare_statement_duration_seconds",
    "Latency of statements the engine ran against a target, by outcome and app role.",
    ["outcome", "role"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "petcare_job_runs",
    "Background job runs in this process, by job and outcome (ok, failed).",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "petcare_job_duration_seconds",
    "Background job run time, by job.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
ALERT_DELIVERIES = Counter(
    "petcare_alert_deliveries",
    "Alert delivery attempts from this process, by channel kind and outcome (ok, failed).",
    ["channel", "outcome"],
    registry=REGISTRY,
)

_extra_lock = threading.Lock()
_extra: list[Callable[[], Iterable[Metric]]] = []


def _bounded(value: str, allowed: Iterable[str], other: str = "other") -> str:
    return value if value in allowed else other


def route_label(path: str, base: str = "") -> str:
    """The closed-set label of a request path (the base URL path stripped first)."""
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :] or "/"
    if path in ROUTES:
        return path
    for prefix, name in (
        ("/_stcore/stream", "stream"),
        ("/_stcore/", "stcore"),
        ("/static/", "static"),
        ("/media/", "media"),
        ("/component/", "component"),
    ):
        if path.startswith(prefix):
            return name
    return "page"


def request_served(route: str, status: int) -> None:
    """Count one request (`route` from `route_label`; status as its class, 2xx…5xx)."""
    REQUESTS.labels(route, f"{max(1, min(status // 100, 5))}xx").inc()


def page_run(page: str, known: Iterable[str]) -> None:
    """Count one run of a page; a page outside `known` counts as `other`."""
    PAGE_RUNS.labels(_bounded(page, known)).inc()


def statement_finished(outcome: str, role: str, seconds: float) -> None:
    """Observe one statement's latency (the engine calls this where its outcome is known)."""
    STATEMENTS.labels(_bounded(outcome, OUTCOMES), _bounded(role, ROLES)).observe(max(0.0, seconds))


def job_finished(job: str, ok: bool, seconds: float) -> None:
    """Count one run of a background job (`job`: a fixed job name, never user text)."""
    JOB_RUNS.labels(job, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(job).observe(max(0.0, seconds))


def alert_delivered(channel_kind: str, ok: bool) -> None:
    """Count one alert delivery attempt (`channel_kind`: slack, webhook, email, …)."""
    ALERT_DELIVERIES.labels(channel_kind, "ok" if ok else "failed").inc()


def gauge_family(
    name: str, doc: str, labels: Sequence[str], values: Iterable[tuple[Sequence[str], float]]
) -> Metric:
    """One gauge family from rows another part already keeps (job lag, outbox states, …)."""
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    for label_values, value in values:
        family.add_metric([str(v) for v in label_values], float(value))
    return family


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function whose metric families join every scrape (job lag, outbox depth, …).

    It is called on each scrape; it should read state already kept (rows, counters), not do
    work. A collector that raises is skipped for that scrape and counted in
    `petcare_metrics_collector_errors`.
    """
    with _extra_lock:
        if collect not in _extra:
            _extra.append(collect)


def unregister_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Remove a collector added with `register_collector` (a part that stops)."""
    with _extra_lock:
        if collect in _extra:
            _extra.remove(collect)


def registered() -> list[Callable[[], Iterable[Metric]]]:
    with _extra_lock:
        return list(_extra)
