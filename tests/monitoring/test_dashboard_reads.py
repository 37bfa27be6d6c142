"""The dashboard's first paint reads the store once (issue 19): `monitoring.overview` returns
what the verdicts, the app's newest values and both series read separately, in one round trip
counted by a TCP proxy, with row level security as always."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import NotFound
from petcare_dba.services import connections, monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, runtime_password, runtime_url
from tests.fix_faults import FaultProxy, fault_proxy
from tests.fix_monitoring import Target, target_db

__all__ = ["fault_proxy", "target_db"]

METRICS = ["tps", "cache_hit_pct", "sessions_active"]
APP_METRICS = ["app_response_p50_ms", "host_cpu_pct"]


def _samples(rt: Runtime) -> None:
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO petcare.metric_samples (connection_id, metric, at, resolution_s, value) "
            "SELECT c.id, m, now() - make_interval(mins => g), 0, g * 1.5 "
            "FROM petcare.connections c, unnest(%s::text[]) m, generate_series(1, 4) g "
            "WHERE c.name = 'tgt' "
            "UNION ALL SELECT NULL, m, now() - make_interval(mins => g), 0, g * 2.0 "
            "FROM unnest(%s::text[]) m, generate_series(1, 3) g "
            "UNION ALL SELECT c.id, 'up', now() - interval '30 seconds', 0, 1 "
            "FROM petcare.connections c WHERE c.name = 'tgt'",
            [[*METRICS, "connection_usage_pct"], APP_METRICS],
        )


def test_the_overview_is_the_separate_reads_in_one_round_trip(
    rt: Runtime,
    admin: Actor,
    target_db: Target,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    _samples(rt)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    parts = urlsplit(rt.admin_url)
    proxy = fault_proxy(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=(2.0, 2.0))
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    url = urlunsplit((*parts[:1], netloc, *parts[2:]))
    store = MetaStore(runtime_url(url, runtime_password(rt.settings)), min_size=1, max_size=1)
    far = Runtime(rt.settings, url, store.open(), rt.keyring)
    try:
        with proxy.counting() as turns:
            got = monitoring.overview(far, admin, "tgt", METRICS, APP_METRICS, since)
    finally:
        store.close()
    assert turns.count == 1, f"{turns.count} store round trips for the dashboard's overview"
    # The same numbers as the reads it replaces (the availability's sample age moves on).
    ages = {v.area: v for v in got.verdicts}
    expected = monitoring.verdicts(rt, admin, "tgt")
    assert [(v.area, v.level, v.metric) for v in got.verdicts] == [
        (v.area, v.level, v.metric) for v in expected
    ]
    assert [v.value for v in got.verdicts[1:]] == [v.value for v in expected[1:]]
    assert ages["availability"].level == "ok" and ages["connections"].value == 1.5
    assert got.app_latest == monitoring.latest(rt, admin, None)
    assert got.series == monitoring.series(rt, admin, "tgt", METRICS, since)
    assert got.app_series == monitoring.series(rt, admin, None, APP_METRICS, since)
    assert len(got.series["tps"]) == 4 and len(got.app_series["host_cpu_pct"]) == 3
    assert got.series["sessions_active"] == sorted(got.series["sessions_active"])


def test_a_connection_the_user_cannot_see_is_not_found(
    rt: Runtime,
    admin: Actor,
    target_db: Target,
    make_user: Callable[[str, str], Actor],
) -> None:
    _samples(rt)
    connections.add(rt, admin, "private", target_db.url, shared=False)
    vera = make_user("vera", "dba")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for name in ("private", "no-such-connection"):
        with pytest.raises(NotFound):
            monitoring.overview(rt, vera, name, METRICS, APP_METRICS, since)
    assert monitoring.overview(rt, vera, "tgt", METRICS, APP_METRICS, since).series["tps"]
