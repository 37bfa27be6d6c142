"""The soak (reliability T3) at CI size, and the trend verdict it rests on.

The first tests run `python -m bench soak`'s measurement (bench/soak.py) for one minute on the
scale test's system (two instances, the worker, HAProxy, PostgreSQL 15 as the store, Redis,
pgbench on the target): 2 users at a 3 s pace, every websocket dropped and opened again every
20 s. One minute is too short to judge growth (the first pages still import modules), so these
check what a minute can prove: no error, every reconnect back signed in with its draft, the
store connections within the pools' bounds, every audit intent closed once the users stop. The
growth verdict itself (bench/_trend.py) is tested on synthetic series, without a server; the
30-minute run is `python -m bench soak`, the operators' 8 hours `--minutes 480`.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench import _topology, soak
from bench import _trend as trend_mod

USERS = 2
SECONDS = 60
RECONNECT_S = 20
POOL_MAX = 8  # PETCARE_POOL_MAX_SIZE of bench/_topology.py
# About 90 s on an idle two-core machine (start-up ~25 s, the soak 60 s, the settle).


@pytest.fixture(scope="module")
def figures(scale_server: str) -> dict[str, Any]:
    with _topology.topology(USERS, server=scale_server) as topo:
        return soak.measure(topo, USERS, SECONDS, RECONNECT_S, pace_s=3.0, sample_s=3.0)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_users_soak_with_reconnects_without_errors_or_leaks(figures: dict[str, Any]) -> None:
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["cross_user_leaks"] == 0
    assert figures["rounds"] >= 2 * USERS
    # Reconnects are staggered over the 20 s period: each user drops its websocket 2-3 times.
    assert figures["reconnects"] >= 2 * USERS
    # Each came back signed in through its cookie, in the editor holding its last statement.
    assert figures["reattached"] == figures["reconnects"]
    assert figures["drafts_kept"] == figures["reconnects"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_store_connections_stay_bounded_and_every_intent_gets_its_outcome(
    figures: dict[str, Any],
) -> None:
    trends = figures["trends"]
    for inst in ("app1", "app2"):
        assert trends[f"rss_mb/{inst}"]["samples"] >= 5
        # Each instance: the app's metadata pool, the jobs' pool, LISTEN and the slot session.
        assert 0 < trends[f"store_connections/{inst}"]["peak"] <= 2 * POOL_MAX + 2
    audit = figures["audit"]
    # Every SELECT a user saw has its outcome row, and none took long to land.
    assert audit["outcomes_seen"] >= figures["rounds"] - USERS
    assert audit["outcomes_missing"] == 0
    assert audit["outcome_lag_max_s"] < 10
    # Once the users stop, no intent stays open (without the reconcile's help).
    assert audit["open_after_settle"] == 0


def _series(values: list[float], every: float = 10.0) -> list[tuple[float, float]]:
    return [(i * every, v) for i, v in enumerate(values)]


def test_the_verdict_flags_steady_growth_and_passes_flat_noise() -> None:
    rng = random.Random(18)
    n = 180  # 30 min at one sample per 10 s
    flat = _series([400 + rng.uniform(-20, 20) for _ in range(n)])
    climbing = _series([400 + i * 0.6 + rng.uniform(-20, 20) for i in range(n)])  # +27 %
    leaking = _series([4 + i // 30 for i in range(n)])  # one more connection every 5 min
    steady = _series([4 + rng.choice((-1, 0, 0, 1)) for _ in range(n)])
    spike = _series([0.2] * 90 + [30.0] + [0.2] * 89)  # one slow outcome, not a trend
    lagging = _series([0.2 + i * 0.05 for i in range(n)])  # the writer falls 9 s behind
    judged = trend_mod.verdict(
        {
            "rss_mb/flat": flat,
            "rss_mb/climbing": climbing,
            "store_connections/leaking": leaking,
            "store_connections/steady": steady,
            "audit_outcome_lag_s/spike": spike,
            "audit_outcome_lag_s/lagging": lagging,
        }
    )
    assert judged.failed == [
        "audit_outcome_lag_s/lagging",
        "rss_mb/climbing",
        "store_connections/leaking",
    ]
    assert not judged.passed
    assert judged.series["rss_mb/climbing"]["growth_pct"] > 10  # type: ignore[operator]
    assert abs(judged.series["rss_mb/flat"]["growth_pct"]) < 5  # type: ignore[arg-type]


def test_the_warmup_is_left_out_and_a_flat_run_passes() -> None:
    # RSS doubles while the first pages import, then holds: growth is judged after the warm-up.
    warm = [200 + 200 * min(1.0, i / 20) for i in range(100)]
    judged = trend_mod.verdict({"rss_mb/app1": _series(warm), "audit_open_intents": _series([0])})
    assert judged.passed, judged.series
    tr = trend_mod.trend(_series(warm), warmup=0.0)
    assert tr.growth_pct > 10 and trend_mod.slope(_series(warm)) > 0
