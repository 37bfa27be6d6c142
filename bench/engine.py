"""Benchmark `engine`: a 1k-row SELECT through the whole engine path vs raw psycopg, locally and
over a slow network.

Both read the same 1000-row table on the same server with a warm connection. The engine path
includes what a user's run costs: the connection lookup (remembered), classification, the audit
intent and execucoes_scripts rows before the statement, BEGIN READ ONLY with the guards, a
server-side cursor, COMMIT, and the outcome rows (written after the response). Locally, raw and
engine runs interleaved: `engine_overhead_ratio` = engine median / raw median (goal <= 2.0), each
engine run timed as one user's statement (started once the previous run's outcome landed);
`engine_back_to_back_ratio` times runs fired back to back, each also competing with the previous
run's outcome write; `stages_ms` splits the
engine's run into its stages; `a1_floor_ratio` is the best ratio any engine honouring
reliability A1 could reach here: raw time plus one durable single-row commit (the intent must be
committed before the statement). Network (issue 16): the metadata store and the target are both
reached through a delaying proxy (tests/fix_faults.FaultProxy) giving PETCARE_BENCH_RTT_MS
(default 20) ms round trips; `engine_remote_ratio` = engine median / raw psycopg median through
the same proxy (goal <= 2.2) and `engine_round_trips` counts each link's round trips of one
warm run (goal: metadata <= 1, target <= 2).
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg

from bench._engine_env import CONNECTION, Env, environment, machine, proxied, timed
from petcare_dba.db.target import pipeline
from petcare_dba.services import connections
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, record

QUERY = "SELECT id, name, amount, created_at FROM bench_rows ORDER BY id"


def _instrument(spent: dict[str, float]) -> Callable[[], None]:
    """Wrap the engine's stages with timers; returns a function undoing it."""
    patches: list[tuple[Any, str, Any]] = [
        (record, "begin", "audit_intent_and_log_ms"),
        (record, "finish", "audit_outcome_and_log_ms"),
        (pipeline, "run_guarded", "target_transaction_ms"),
        (connections, "for_run", "connection_lookup_and_decrypt_ms"),
    ]
    originals = []
    for module, name, label in patches:
        original = getattr(module, name)
        originals.append((module, name, original))
        if name == "transaction":
            setattr(module, name, _timed_cm(original, label, spent))
        else:
            setattr(module, name, _timed_fn(original, label, spent))

    def undo() -> None:
        for module, name, original in originals:
            setattr(module, name, original)

    return undo


def _timed_fn(fn: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += (time.perf_counter() - started) * 1000

    return wrapper


def _timed_cm(cm: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    from contextlib import contextmanager

    @contextmanager
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # BEGIN + guards on entry and COMMIT on exit; the statement inside is timed separately.
        started = time.perf_counter()
        inner = cm(*args, **kwargs)
        inner.__enter__()
        spent[label] += (time.perf_counter() - started) * 1000
        try:
            yield
        except BaseException as exc:
            if not inner.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            started = time.perf_counter()
            inner.__exit__(None, None, None)
            spent[label] += (time.perf_counter() - started) * 1000

    return wrapper


def main(quick: bool) -> dict[str, Any]:
    runs = 40 if quick else 300
    with environment() as env:
        with psycopg.connect(env.target_url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE bench_rows AS SELECT g AS id, 'name ' || g AS name, "
                "(g * 1.5)::numeric(12,2) AS amount, now() - g * interval '1 minute' AS created_at "
                "FROM generate_series(1, 1000) g"
            )
            conn.execute("VACUUM ANALYZE bench_rows")

            def raw_run() -> Any:
                rows = conn.execute(QUERY).fetchall()
                assert len(rows) == 1000
                return rows

            def run() -> Any:
                result = engine.run(env.rt, env.admin, CONNECTION, QUERY, max_rows=1000)
                assert len(result.results[0].rows) == 1000
                return result

            for _ in range(5):
                raw_run()
                run()
            # Interleaved, so that both see the same machine. One user's statement: each timed
            # run starts once the previous run's outcome (written after the response) has landed,
            # as a person's next statement does; back to back, each run also competes with the
            # previous outcome's write for the chain head and the cores (reported beside it).
            raw, app, back_to_back = [], [], []
            for _ in range(runs):
                raw.append(timed(raw_run)[0])
                record.settle(env.rt)
                app.append(timed(run)[0])
                back_to_back.append(timed(run)[0])
            # Reliability A1's floor: whatever the engine does, one durable commit of one row
            # (and its round trip) must happen before the statement may start.
            conn.execute("CREATE TABLE bench_a1_floor (id int)")
            floor = [
                timed(lambda: conn.execute("INSERT INTO bench_a1_floor VALUES (1)"))[0]
                for _ in range(runs)
            ]
        spent: dict[str, float] = defaultdict(float)
        undo = _instrument(spent)
        staged = []
        try:
            for _ in range(runs):
                record.settle(env.rt)
                staged.append(timed(run)[0])
        finally:
            undo()
        network = _network(env, 30 if quick else 100)
    raw_median = statistics.median(raw)
    app_median = statistics.median(app)
    floor_median = statistics.median(floor)
    stages = {k: round(v / runs, 3) for k, v in sorted(spent.items())}
    stages["total_ms"] = round(statistics.mean(staged), 3)
    stages["other_ms"] = round(stages["total_ms"] - sum(v for k, v in spent.items()) / runs, 3)
    return {
        "engine_overhead_ratio": round(app_median / raw_median, 3),
        "goal": "<= 2.0",
        "engine_median_ms": round(app_median, 3),
        "raw_psycopg_median_ms": round(raw_median, 3),
        "engine_back_to_back_ratio": round(statistics.median(back_to_back) / raw_median, 3),
        "engine_back_to_back_median_ms": round(statistics.median(back_to_back), 3),
        "a1_floor_ms": round(floor_median, 3),
        "a1_floor_ratio": round((raw_median + floor_median) / raw_median, 3),
        "runs": runs,
        "stages_ms": stages,
        **network,
        "server": "embedded" if env.embedded else "PETCARE_BENCH_DATABASE_URL",
        "machine": machine(),
    }


def _network(env: Env, runs: int) -> dict[str, Any]:
    """The same SELECT with both links behind a proxy adding a round trip of RTT ms."""
    rtt = float(os.environ.get("PETCARE_BENCH_RTT_MS", "20"))
    half = (rtt / 2, rtt / 2)
    meta_proxy, meta_url = proxied(env.rt.settings.database_url, half)
    target_proxy, target_url = proxied(env.target_url, half)
    rt = Runtime.start(env.rt.settings.with_overrides(database_url=meta_url))
    try:
        connections.add(rt, env.admin, "bench_far", target_url, shared=True)

        def run() -> Any:
            return engine.run(rt, env.admin, "bench_far", QUERY, max_rows=1000)

        raw, app = [], []
        with psycopg.connect(target_url, autocommit=True) as conn:
            for _ in range(3):
                conn.execute(QUERY).fetchall()
                run()
            for _ in range(runs):  # interleaved and settled, as locally
                raw.append(timed(lambda: conn.execute(QUERY).fetchall())[0])
                rt.deferred.settle()
                ms, result = timed(run)
                assert len(result.results[0].rows) == 1000
                app.append(ms)
        rt.deferred.settle()
        with rt.deferred.held(), meta_proxy.counting() as meta, target_proxy.counting() as tgt:
            run()
        # A1's floor over the network: the raw statement plus one durable commit on the store.
        with psycopg.connect(meta_url, autocommit=True) as conn:
            conn.execute("CREATE TEMP TABLE bench_a1_floor (id int)")
            floor = [
                timed(lambda: conn.execute("INSERT INTO bench_a1_floor VALUES (1)"))[0]
                for _ in range(runs)
            ]
    finally:
        engine.close(rt)
        rt.close()
        meta_proxy.close()
        target_proxy.close()
    raw_median = statistics.median(raw)
    return {
        "engine_remote_ratio": round(statistics.median(app) / raw_median, 3),
        "remote_goal": "<= 2.2",
        "network_rtt_ms": rtt,
        "engine_remote_median_ms": round(statistics.median(app), 3),
        "raw_remote_median_ms": round(raw_median, 3),
        "a1_remote_floor_ratio": round((raw_median + statistics.median(floor)) / raw_median, 3),
        "engine_round_trips": {"metadata": meta.count, "target": tgt.count},
        "round_trips_goal": {"metadata": "<= 1", "target": "<= 2"},
        "remote_runs": runs,
    }
