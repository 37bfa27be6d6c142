"""Benchmark `engine`: a 1k-row SELECT through the whole engine path vs raw psycopg.

Both read the same 1000-row table on the same server with a warm connection. The engine path
includes what a user's run costs: connection lookup and credential decryption, classification,
the audit intent and execucoes_scripts rows before the statement, BEGIN READ ONLY with the
guards, a server-side cursor, COMMIT, and the outcome rows. `engine_overhead_ratio` = engine
median / raw median (goal <= 1.2); `stages_ms` splits the engine's median run into metadata
reads, audit/execution-log writes and target time so the expensive part is visible.
`a1_floor_ratio` is the best ratio any engine honouring reliability A1 could reach here: raw
time plus one durable single-row commit (the intent must be committed before the statement).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg

from bench._engine_env import CONNECTION, environment, machine, timed
from petcare_dba.db.target import executor
from petcare_dba.services import connections
from petcare_dba.services.sql import engine, record

QUERY = "SELECT id, name, amount, created_at FROM bench_rows ORDER BY id"


def _instrument(spent: dict[str, float]) -> Callable[[], None]:
    """Wrap the engine's stages with timers; returns a function undoing it."""
    patches: list[tuple[Any, str, Any]] = [
        (record, "begin", "audit_intent_and_log_ms"),
        (record, "finish", "audit_outcome_and_log_ms"),
        (executor, "execute", "target_statement_ms"),
        (executor, "transaction", "target_transaction_ms"),
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
            raw = []
            for _ in range(5):
                conn.execute(QUERY).fetchall()
            for _ in range(runs):
                ms, rows = timed(lambda: conn.execute(QUERY).fetchall())
                assert len(rows) == 1000
                raw.append(ms)
            # Reliability A1's floor: whatever the engine does, one durable commit of one row
            # (and its round trip) must happen before the statement may start.
            conn.execute("CREATE TABLE bench_a1_floor (id int)")
            floor = [
                timed(lambda: conn.execute("INSERT INTO bench_a1_floor VALUES (1)"))[0]
                for _ in range(runs)
            ]

        def run() -> Any:
            return engine.run(env.rt, env.admin, CONNECTION, QUERY, max_rows=1000)

        for _ in range(5):
            run()
        app = []
        for _ in range(runs):
            ms, result = timed(run)
            assert len(result.results[0].rows) == 1000
            app.append(ms)
        spent: dict[str, float] = defaultdict(float)
        undo = _instrument(spent)
        staged = []
        try:
            for _ in range(runs):
                staged.append(timed(run)[0])
        finally:
            undo()
    raw_median = statistics.median(raw)
    app_median = statistics.median(app)
    floor_median = statistics.median(floor)
    stages = {k: round(v / runs, 3) for k, v in sorted(spent.items())}
    stages["total_ms"] = round(statistics.mean(staged), 3)
    stages["other_ms"] = round(stages["total_ms"] - sum(v for k, v in spent.items()) / runs, 3)
    return {
        "engine_overhead_ratio": round(app_median / raw_median, 3),
        "goal": "<= 1.2",
        "engine_median_ms": round(app_median, 3),
        "raw_psycopg_median_ms": round(raw_median, 3),
        "a1_floor_ms": round(floor_median, 3),
        "a1_floor_ratio": round((raw_median + floor_median) / raw_median, 3),
        "runs": runs,
        "stages_ms": stages,
        "server": "embedded" if env.embedded else "PETCARE_BENCH_DATABASE_URL",
        "machine": machine(),
    }
