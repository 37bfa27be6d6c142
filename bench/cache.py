"""`python -m bench cache`: what the cache layer saves and what cross-instance work costs.

`catalog_*`: one explorer discovery of a database with 1,000 (`--quick`) or 10,000 tables read
from PostgreSQL (the baseline: what a miss costs) against a hit in the in-process cache (the
built catalog kept beside its entry), a hit that decodes and builds again (a new entry), and a
hit in Redis (127.0.0.1:6379, decoded and checked). `invalidation_*_ms`: from NOTIFY (or a Redis
PUBLISH) to the other listener's callback, p50 and max of 50. `slot_*_ms`: taking and giving back
one cross-instance slot (two advisory-lock round trips) against a raw `SELECT 1`.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable

import psycopg

from bench._pg import fresh_database, server
from petcare_dba.db import notify
from petcare_dba.db.shared_slots import SharedSlots
from petcare_dba.db.target import explorer as db
from petcare_dba.services.cache import Cache
from petcare_dba.services.cache.memory import MemoryBackend
from petcare_dba.services.explorer import catalog

REDIS_URL = "redis://127.0.0.1:6379/0"


def _build(url: str, tables: int) -> None:
    """Tables of ten columns in ten schemas (the discovery benchmark's shape)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for s in range(10):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS s{s}")
        for lo in range(0, tables, 500):  # one transaction per 500: lock slots run out
            with conn.transaction():
                for i in range(lo, min(tables, lo + 500)):
                    conn.execute(
                        f"CREATE TABLE s{i % 10}.t{i} (id bigint PRIMARY KEY, a int, b text, "
                        "c numeric, d timestamptz, e jsonb, f boolean, g date, h uuid, k int[])"
                    )
        conn.execute("ANALYZE")


def _best(fn: Callable[[], object], n: int = 5) -> float:
    best = float("inf")
    for _ in range(n):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _catalog(url: str) -> dict[str, object]:
    guards = db.Guards(url, "petcare-dba/bench/cache")
    batch = db.read_batch(guards, db.DISCOVERY)
    value = {"rows": batch.rows, "read_at": 0.0, "elapsed_ms": 0.0, "round_trips": 4}

    def miss() -> object:
        b = db.read_batch(guards, db.DISCOVERY)
        return catalog.from_value("c", {**value, "rows": b.rows})

    def build(v: object) -> object:
        return catalog.from_value("c", v)  # type: ignore[arg-type]

    baseline = _best(miss, 3)
    out: dict[str, object] = {"catalog_miss_s": round(baseline, 4)}
    memory = Cache(MemoryBackend(1 << 30), max_entry_bytes=1 << 30)
    memory.put("catalog", 1, ("c",), value, generation=memory.generation(1))
    out["catalog_entry_bytes"] = memory.backend.usage()[1]
    memory.get("catalog", 1, ("c",), build)
    hit = _best(lambda: memory.get("catalog", 1, ("c",), build))
    rebuilt = _best(
        lambda: memory.get("catalog", 1, ("c",)) and build(memory.get("catalog", 1, ("c",)))
    )
    out.update(
        catalog_memory_hit_s=round(hit, 6),
        catalog_memory_hit_ratio=round(hit / baseline, 5),
        catalog_decode_build_s=round(rebuilt, 4),
        catalog_decode_build_ratio=round(rebuilt / baseline, 3),
    )
    try:
        from petcare_dba.services.cache import redis_store

        conn = redis_store.client(REDIS_URL)
    except Exception as exc:  # report, do not fail: Redis is optional
        out["redis"] = f"unavailable: {exc}"
        return out
    shared = Cache(
        redis_store.RedisBackend(conn, lambda e: None),
        namespace="bench" + uuid.uuid4().hex[:8],
        max_entry_bytes=1 << 30,
    )
    shared.put("catalog", 1, ("c",), value, generation=shared.generation(1))
    other = Cache(shared.backend, namespace=shared.namespace, key=shared._key)  # a 2nd instance
    redis_hit = _best(lambda: other.get("catalog", 1, ("c",), build))  # same bytes: kept copy
    redis_new = _best(
        lambda: Cache(shared.backend, namespace=shared.namespace, key=shared._key).get(
            "catalog", 1, ("c",), build
        )
    )
    shared.invalidate(None)
    out.update(
        catalog_redis_hit_s=round(redis_hit, 4),
        catalog_redis_hit_ratio=round(redis_hit / baseline, 4),
        catalog_redis_first_hit_s=round(redis_new, 4),
        catalog_redis_first_hit_ratio=round(redis_new / baseline, 3),
    )
    return out


def _latency(
    publish: Callable[[str], None], start: Callable[[Callable[[str], None]], object]
) -> list[float]:
    got = threading.Event()
    start(lambda _text: got.set())
    samples = []
    for _ in range(50):
        got.clear()
        started = time.perf_counter()
        publish("x")
        if not got.wait(5):
            raise RuntimeError("a message did not arrive")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _invalidation(url: str) -> dict[str, object]:
    out: dict[str, object] = {}
    channel = "bench_" + uuid.uuid4().hex[:8]
    listeners: list[notify.Listener] = []

    def start_pg(cb: Callable[[str], None]) -> None:
        listener = notify.Listener(url, channel, cb, lambda: None)
        listener.start()
        listeners.append(listener)

    with psycopg.connect(url, autocommit=True) as conn:

        def send(payload: str) -> None:
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))

        pg = _latency(send, start_pg)
    for listener in listeners:
        listener.stop()
    out.update(
        invalidation_pg_p50_ms=round(statistics.median(pg), 2),
        invalidation_pg_max_ms=round(max(pg), 2),
    )
    try:
        from petcare_dba.services.cache import redis_store

        conn = redis_store.client(REDIS_URL)
    except Exception:
        return out
    buses: list[redis_store.RedisBus] = []

    def start_redis(cb: Callable[[str], None]) -> None:
        bus = redis_store.RedisBus(conn, channel, cb, lambda: None)
        bus.start()
        buses.append(bus)

    rd = _latency(lambda p: conn.publish(channel, p), start_redis)
    for bus in buses:
        bus.stop()
    out.update(
        invalidation_redis_p50_ms=round(statistics.median(rd), 2),
        invalidation_redis_max_ms=round(max(rd), 2),
    )
    return out


def _slots(url: str) -> dict[str, object]:
    shared = SharedSlots(url, "bench" + uuid.uuid4().hex[:8])
    with psycopg.connect(url, autocommit=True) as conn:
        raw = _best(lambda: conn.execute("SELECT 1").fetchone(), 200)

    def take_give() -> None:
        shared.release(shared.acquire(1, 1, 3, 1.0))

    slot = _best(take_give, 200)
    shared.close()
    return {
        "slot_take_give_ms": round(slot * 1000, 3),
        "slot_raw_select_ms": round(raw * 1000, 3),
        "slot_ratio_vs_select": round(slot / raw, 2),
    }


def main(quick: bool) -> dict[str, object]:
    tables = 1000 if quick else 10_000
    with server() as url:
        target = fresh_database(url, "bench_cache")
        _build(target, tables)
        out: dict[str, object] = {"tables": tables}
        out.update(_catalog(target))
        out.update(_invalidation(target))
        out.update(_slots(target))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP DATABASE bench_cache WITH (FORCE)")
    return out
