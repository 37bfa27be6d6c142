"""Audit volume (reliability A6): 200 audited events/s, added latency and no lost row.

Migrates a fresh metadata schema and, through the app's own MetaStore (petcare_login ->
petcare_app, identity per transaction), offers a paced load of 200 events/s from 4 threads:
first a baseline of plain INSERTs into an untriggered table of the same shape (same transaction
shape, same pool), then `audit.record` (RLS check, redaction, chain trigger under the head row
lock). Full run: 120 s baseline + 600 s audit; `--quick`: 10 s + 15 s. Reports p50/p95 of both,
`added_p95_ms` (goal <= 5), the achieved rate, the count check (rows written == rows sent) and
whether the chain still verifies.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import psycopg

from bench._pg import fresh_database, server
from petcare_dba.db import admin, migrations
from petcare_dba.db.metastore import MetaStore
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import runtime_url
from petcare_dba.services.security import audit

PASSWORD = "bench-runtime-password-42"  # noqa: S105 - a throwaway benchmark database
RATE = 200
THREADS = 4
SQL = "SELECT id, name FROM pets WHERE clinic_id = 42 AND name ILIKE 'a%' ORDER BY id LIMIT 100"
PLAIN = """
CREATE TABLE public.bench_plain (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(),
    user_id bigint, username text, action text, outcome text, sql_text text, sql_hash text,
    detail jsonb);
GRANT INSERT ON public.bench_plain TO petcare_app;
GRANT USAGE ON SCHEMA public TO petcare_app
"""
PLAIN_INSERT = (
    "INSERT INTO public.bench_plain (user_id, username, action, outcome, sql_text, sql_hash, "
    "detail) VALUES (%(user_id)s, %(username)s, 'sql.execute', 'ok', %(sql)s, md5(%(sql)s), "
    "'{\"rows\": 100}')"
)


def _paced(seconds: float, call: Any) -> tuple[list[float], int, float]:
    """Offer RATE calls/s for `seconds` from THREADS threads; latencies (ms), count, elapsed."""
    total = int(seconds * RATE)
    start = time.perf_counter() + 0.2
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []

    def worker() -> None:
        while True:
            with lock:
                index = state["next"]
                state["next"] += 1
            if index >= total:
                return
            delay = start + index / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            call(index)
            latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, total, time.perf_counter() - start


def _p(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 3)


def main(quick: bool) -> dict[str, Any]:
    baseline_s, audit_s = (10.0, 15.0) if quick else (120.0, 600.0)
    with server() as url:
        db = fresh_database(url, "petcare_bench_audit")
        migrations.migrate(db, PASSWORD)
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(PLAIN)
        user_id = admin.create_first_admin(db, "bench", "$argon2id$v=19$m=65536,t=3,p=4$x$y")
        actor = Actor(user_id, "bench", "admin", "s1")
        store = MetaStore(runtime_url(db, PASSWORD), min_size=THREADS, max_size=THREADS).open()
        try:

            def plain(i: int) -> None:
                with store.tx(actor.identity) as tx:
                    tx.execute(PLAIN_INSERT, {"user_id": user_id, "username": "bench", "sql": SQL})

            def audited(i: int) -> None:
                audit.record(
                    store,
                    actor,
                    "sql.execute",
                    "ok",
                    sql_text=SQL,
                    rows_affected=100,
                    duration_ms=1.5,
                    detail={"i": i},
                )

            _paced(1.0, plain)  # warm-up: pool, plans
            base, _, _ = _paced(baseline_s, plain)
            with store.tx(actor.identity) as tx:
                before = int(tx.value("SELECT count(*) FROM petcare.audit_log"))
            lat, sent, elapsed = _paced(audit_s, audited)
            with store.tx(actor.identity) as tx:
                after = int(tx.value("SELECT count(*) FROM petcare.audit_log"))
            status = audit.verify(store, actor)
        finally:
            store.close()
    return {
        "rate_offered_per_s": RATE,
        "rate_achieved_per_s": round(sent / elapsed, 1),
        "seconds": audit_s,
        "baseline_p50_ms": _p(base, 50),
        "baseline_p95_ms": _p(base, 95),
        "audit_p50_ms": _p(lat, 50),
        "audit_p95_ms": _p(lat, 95),
        "added_p95_ms": round(_p(lat, 95) - _p(base, 95), 3),
        "ratio_p95": round(_p(lat, 95) / max(_p(base, 95), 0.001), 2),
        "rows_sent": sent,
        "rows_written": after - before,
        "lost_rows": sent - (after - before),
        "chain_ok": status.ok,
        "goal_added_p95_ms": 5,
    }
