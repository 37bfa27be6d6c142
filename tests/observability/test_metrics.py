"""/metrics: a real app process scraped over HTTP and parsed with prometheus_client's parser.

The statements, samples and audit rows are made in this process against the same metadata
store the app reads; the app reads them at scrape time (it never queries a target on scrape).
Hostile: made-up paths do not grow the series, forwarding headers and a wrong token are
refused, and a connection name built to break the text format parses back unchanged.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from petcare_dba import settings as settings_mod
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import collector
from petcare_dba.services.observability import metrics, scrape
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:  # noqa: S310
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams: dict[str, Any], name: str) -> list[Any]:
    return list(fams[name].samples) if name in fams else []


@pytest.mark.slow
def test_a_scrape_parses_and_carries_every_part(
    live_app: str, rt: Runtime, admin: Actor, target: Target
) -> None:
    collector.collect_once(rt, force=True)  # the collector's samples, stored
    with rt.store.tx(admin.identity) as tx:  # an intent whose outcome never came
        tx.execute(
            "audit_insert",
            {"row": audit.row_for(admin, "sql.execute", "intent", event_id=uuid.uuid4())},
        )
    assert get(live_app + "/healthz")[0] == 200
    status, body = get(live_app + "/metrics")
    assert status == 200, body
    fams = families(body)

    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in samples(fams, "petcare_http_requests")
        if s.name.endswith("_total")
    }
    assert requests[("/healthz", "2xx")] >= 1
    sampled = {
        (s.labels["connection"], s.labels["metric"]): s.value
        for s in samples(fams, "petcare_target_sample")
    }
    assert sampled[("tgt", "up")] == 1.0
    assert sampled[("tgt", "connections_total")] >= 1
    assert [s.labels for s in samples(fams, "petcare_target_sample_age_seconds")] == [
        {"connection": "tgt"}
    ]
    assert samples(fams, "petcare_audit_open_intents")[0].value == 1
    assert samples(fams, "petcare_audit_oldest_open_intent_seconds")[0].value >= 0
    assert samples(fams, "petcare_metadata_up")[0].value == 1
    assert samples(fams, "petcare_metadata_pool_connections")[0].value >= 1
    assert samples(fams, "petcare_metadata_pool_max")[0].value == 4
    for name in (
        "petcare_target_pool_in_use",
        "petcare_statement_duration_seconds",
        "petcare_job_runs",
        "petcare_job_lag_seconds",
        "petcare_alert_outbox",
        "petcare_alert_deliveries",
        "petcare_page_runs",
        "process_resident_memory_bytes",
    ):
        assert name in fams, name

    # A scanner's made-up paths count under one label: no new series.
    for i in range(20):
        get(f"{live_app}/nope-{uuid.uuid4().hex}/{i}")
    routes = {
        s.labels["route"]
        for s in samples(families(get(live_app + "/metrics")[1]), "petcare_http_requests")
    }
    assert routes <= {"/healthz", "/metrics", "page", "static", "stcore", "stream", "media"}

    # Without metrics_token: a direct loopback peer only; any forwarding header is refused.
    for header in (
        {"X-Forwarded-For": "203.0.113.9"},
        {"X-Forwarded-For": "127.0.0.1"},
        {"Forwarded": "for=127.0.0.1"},
        {"X-Real-IP": "127.0.0.1"},
        {"X-Forwarded-Host": "example.org"},
    ):
        status, body = get(live_app + "/metrics", header)
        assert (status, body) == (403, "forbidden"), header
    assert get(live_app + "/metrics", {"Authorization": "Bearer anything"})[0] == 200
    post = urllib.request.Request(live_app + "/metrics", data=b"x", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(post, timeout=20)  # noqa: S310
    assert refused.value.code == 405
    with urllib.request.urlopen(live_app + "/metrics", timeout=20) as resp:  # noqa: S310
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_statement_latency_by_outcome_and_role(rt: Runtime, admin: Actor, target: Target) -> None:
    def count(outcome: str) -> float:
        fams = families(scrape.render(rt).decode())
        return sum(
            s.value
            for s in samples(fams, "petcare_statement_duration_seconds")
            if s.name.endswith("_count") and s.labels == {"outcome": outcome, "role": "admin"}
        )

    ok, error = count("ok"), count("error")
    engine.run(rt, admin, "tgt", "SELECT 1")
    engine.run(rt, admin, "tgt", "SELECT nope FROM t")
    assert count("ok") == ok + 1
    assert count("error") == error + 1


def test_hostile_label_values_parse_back(rt: Runtime, admin: Actor, target: Target) -> None:
    # Connection names are validated ([a-z0-9_-]); metric names in the samples table are free
    # text, so a stored one built to break the exposition format stands in for any label.
    evil = 'x"} 1\n# TYPE evil counter\nevil_total{a="\\'
    with rt.store.tx(admin.identity) as tx:
        conn_id = tx.value("mon_connection_id", {"name": "tgt"})
        tx.execute("mon_samples_insert", {"conn": conn_id, "metrics": [evil], "values": [7.0]})
    metrics.page_run("../../etc/passwd", ("dashboard",))
    metrics.statement_finished("made-up", "root", 0.01)
    fams = families(scrape.render(rt).decode())
    assert "evil" not in fams
    sampled = {
        (s.labels["connection"], s.labels["metric"]): s.value
        for s in samples(fams, "petcare_target_sample")
    }
    assert sampled[("tgt", evil)] == 7.0
    pages = {s.labels["page"] for s in samples(fams, "petcare_page_runs")}
    assert "../../etc/passwd" not in pages and "other" in pages
    labels = [s.labels for s in samples(fams, "petcare_statement_duration_seconds")]
    assert {"outcome": "other", "role": "other"} in labels


def test_a_registered_collector_joins_the_scrape_and_its_failure_is_counted(
    rt: Runtime, admin: Actor
) -> None:
    from prometheus_client.metrics_core import GaugeMetricFamily

    def jobs() -> list[Any]:
        gauge = GaugeMetricFamily("petcare_test_job_lag_seconds", "test", labels=["job"])
        gauge.add_metric(["reconcile"], 3.0)
        return [gauge]

    def broken() -> list[Any]:
        raise RuntimeError("boom")

    metrics.register_collector(jobs)
    metrics.register_collector(broken)
    try:
        metrics.job_finished("reconcile", False, 0.2)
        metrics.alert_delivered("webhook", True)
        fams = families(scrape.render(rt).decode())
    finally:
        metrics.unregister_collector(jobs)
        metrics.unregister_collector(broken)
    assert samples(fams, "petcare_test_job_lag_seconds")[0].value == 3.0
    assert samples(fams, "petcare_metrics_collector_errors")[0].value == 1
    runs = {
        (s.labels["job"], s.labels["outcome"]): s.value
        for s in samples(fams, "petcare_job_runs")
        if s.name.endswith("_total")
    }
    assert runs[("reconcile", "failed")] >= 1


def serve(settings: settings_mod.Settings, **extra: str) -> tuple[subprocess.Popen[bytes], int]:
    """The app as `up` serves it (its launcher) on a free port, with extra PETCARE_* values."""
    import random

    from petcare_dba.cli.core import streamlit_command
    from petcare_dba.db.embedded import port_is_free

    port = next(p for p in random.sample(range(9600, 9900), 100) if port_is_free(p))
    env = dict(os.environ)
    for name, source in settings.sources.items():
        if source in ("env", "cli"):
            env["PETCARE_" + name.upper()] = str(settings.values[name])
    env.update(PETCARE_PORT=str(port), **extra)
    proc = subprocess.Popen(
        streamlit_command(settings),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while get_or_none(f"http://127.0.0.1:{port}/_stcore/health") != 200:
        assert time.monotonic() < deadline and proc.poll() is None, "app did not start"
        time.sleep(0.3)
    return proc, port


@pytest.fixture
def token_app(test_settings: settings_mod.Settings, rt: Runtime, admin: Actor) -> Iterator[str]:
    """The app with `metrics_token` set."""
    proc, port = serve(test_settings, PETCARE_METRICS_TOKEN="s3cret-token")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


@pytest.mark.slow
def test_with_a_token_only_the_bearer_token_opens_metrics(token_app: str) -> None:
    url = token_app + "/metrics"
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer s3cret-tokenX"},
        {"Authorization": "Bearer s3cret-toke"},
        {"Authorization": "Basic s3cret-token"},
        {"Authorization": "s3cret-token"},
        {"Authorization": "Bearer "},
        {"Cookie": "petcare_session=s3cret-token"},
    ):
        assert get(url, headers)[0] == 403, headers
    status, body = get(url, {"Authorization": "Bearer s3cret-token"})
    assert status == 200 and "petcare_metadata_up 1.0" in body
    assert get(url, {"Authorization": "bearer s3cret-token"})[0] == 200


def _outside_address() -> str | None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: picks the outbound interface
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.mark.slow
def test_without_a_token_a_peer_on_another_address_is_refused(
    test_settings: settings_mod.Settings, rt: Runtime, admin: Actor
) -> None:
    address = _outside_address()
    if address is None:
        pytest.fail("this machine has no non-loopback address to test from", pytrace=False)
    proc, port = serve(test_settings, PETCARE_HOST="0.0.0.0")
    try:
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200  # positive control
        assert get(f"http://{address}:{port}/metrics") == (403, "forbidden")
        assert get(f"http://{address}:{port}/healthz")[0] == 200  # it is reachable there
    finally:
        proc.terminate()
        proc.wait(timeout=15)
