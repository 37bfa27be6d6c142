"""Benchmark `partitions`: expiring a day of raw samples by dropping its partition vs a DELETE.

A migrated metadata store (migration 0029) gets one old UTC day of raw samples in its day
partition of `petcare.metric_samples_raw` (1 M rows, `--quick` 100k: what 50 connections sampled
every 15 s write in about half a day); the baseline is the same rows in an unpartitioned table
with the indexes 0007 gave metric_samples, expired by the DELETE the retention job ran before.
Reports both times and `delete_vs_drop_ratio`. The DELETE also leaves every row dead for VACUUM
to reclaim later; that cost is not counted here.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from bench._pg import fresh_database, server
from petcare_dba.db import migrations

CUTOFF = "date_trunc('day', now()) - interval '4 days'"


def main(quick: bool) -> dict[str, Any]:
    rows = 100_000 if quick else 1_000_000
    with server() as url:
        store = fresh_database(url, "bench_partitions")
        migrations.migrate(store, "bench-runtime-password-0123")
        with psycopg.connect(store, autocommit=True) as conn:
            conn.execute(
                "SELECT petcare.partitions_ensure('petcare.metric_samples_raw', 'day', "
                "now() - interval '5 days', now() - interval '5 days', true)"
            )
            # 40 metrics, each at evenly spaced instants of the day (the unique key holds)
            step_s = 86_400 / (rows // 40)
            conn.execute(
                "INSERT INTO petcare.metric_samples (connection_id, metric, at, value) "
                "SELECT NULL, 'm' || (g % 40), date_trunc('day', now() - interval '5 days') "
                f"+ (g / 40) * interval '{step_s} seconds', g "
                f"FROM generate_series(0, {rows - 1}) g"
            )
            conn.execute(
                "CREATE TABLE public.flat AS SELECT * FROM petcare.metric_samples "
                "WHERE resolution_s = 0"
            )
            conn.execute("ALTER TABLE public.flat ADD PRIMARY KEY (id)")
            conn.execute(
                "CREATE UNIQUE INDEX ON public.flat (connection_id, metric, resolution_s, at) "
                "NULLS NOT DISTINCT"
            )
            conn.execute("CREATE INDEX ON public.flat (at)")
            conn.execute("VACUUM ANALYZE public.flat")
            conn.execute("CHECKPOINT")

            started = time.perf_counter()
            deleted = conn.execute(f"DELETE FROM public.flat WHERE at < {CUTOFF}").rowcount
            delete_ms = (time.perf_counter() - started) * 1000
            conn.execute("CHECKPOINT")

            started = time.perf_counter()
            dropped = conn.execute(
                f"SELECT petcare.partitions_drop_before('petcare.metric_samples_raw', {CUTOFF})"
            ).fetchone()
            drop_ms = (time.perf_counter() - started) * 1000
            left = conn.execute("SELECT count(*) FROM petcare.metric_samples").fetchone()
    return {
        "rows": rows,
        "deleted_rows": deleted,
        "dropped_partitions": dropped[0] if dropped else None,
        "rows_left": left[0] if left else None,
        "delete_ms": round(delete_ms, 1),
        "drop_ms": round(drop_ms, 1),
        "delete_vs_drop_ratio": round(delete_ms / max(drop_ms, 0.001), 1),
    }
