"""Benchmark `big_result`: the first page of a 10M-row SELECT vs the same query with LIMIT 1000.

Both go through the engine (max_rows = 1000) against one table of 10M rows (1M with --quick).
The engine reads a plain SELECT through a server-side cursor and stops after max_rows + 1 rows,
so asking for the whole table should cost about what LIMIT 1000 costs:
`first_page_ratio` = median(no LIMIT) / median(LIMIT 1000) (goal <= 1.5), and
`first_page_rss_mb` is how much the process's resident memory grew over those runs (goal <= 50).
A raw psycopg `fetchall()` of the LIMIT query is reported as a reference.
"""

from __future__ import annotations

import gc
import statistics
from typing import Any

import psycopg

from bench._engine_env import CONNECTION, environment, machine, rss_mb, timed
from petcare_dba.services.sql import engine

QUERY = "SELECT id, name, amount FROM big ORDER BY id"


def main(quick: bool) -> dict[str, Any]:
    rows = 1_000_000 if quick else 10_000_000
    runs = 9 if quick else 15
    with environment() as env:
        with psycopg.connect(env.target_url, autocommit=True) as conn:
            conn.execute(
                "CREATE UNLOGGED TABLE big AS SELECT g AS id, md5(g::text) AS name, "
                f"(g % 1000)::numeric(10,2) AS amount FROM generate_series(1, {rows}) g"
            )
            conn.execute("ALTER TABLE big ADD PRIMARY KEY (id)")
            conn.execute("VACUUM ANALYZE big")
            raw = [
                timed(lambda: conn.execute(QUERY + " LIMIT 1000").fetchall())[0]
                for _ in range(runs)
            ]

        def first_page(text: str) -> Any:
            result = engine.run(env.rt, env.admin, CONNECTION, text, max_rows=1000)
            page = result.raise_for_error().results[0]
            assert len(page.rows) == 1000
            return page

        first_page(QUERY + " LIMIT 1000")  # warm the pool and the cache
        gc.collect()
        before = rss_mb()
        limited = [timed(lambda: first_page(QUERY + " LIMIT 1000"))[0] for _ in range(runs)]
        whole = []
        truncated = False
        for _ in range(runs):
            ms, page = timed(lambda: first_page(QUERY))
            whole.append(ms)
            truncated = page.truncated
        gc.collect()
        growth = rss_mb() - before
    return {
        "first_page_ratio": round(statistics.median(whole) / statistics.median(limited), 3),
        "first_page_rss_mb": round(max(0.0, growth), 1),
        "goal": "first_page_ratio <= 1.5, first_page_rss_mb <= 50",
        "rows_in_table": rows,
        "first_page_ms": round(statistics.median(whole), 2),
        "limit_1000_ms": round(statistics.median(limited), 2),
        "raw_psycopg_limit_1000_ms": round(statistics.median(raw), 2),
        "truncated_flagged": truncated,
        "runs": runs,
        "server": "embedded" if env.embedded else "PETCARE_BENCH_DATABASE_URL",
        "machine": machine(),
    }
