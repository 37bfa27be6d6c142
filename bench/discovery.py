"""Discovery of a database with 10,000 tables and 100,000 columns.

`discovery_10k_seconds`: the explorer's whole-database read (db.explorer.read_batch of the four
discovery queries plus building the Relation objects), best of three. `discovery_round_trips`
is measured at 10 % of the size and at full size and must be equal (constant). Baseline: the
same information through information_schema and \\d-style per-table queries (columns and size of
each table), measured on a sample of tables in the same run and scaled to the full count.
"""

from __future__ import annotations

import time

import psycopg

from bench._pg import fresh_database, server
from petcare_dba.db.target import explorer as db
from petcare_dba.services.explorer.catalog import relations_from_rows

COLUMNS = 10


def _build(url: str, tables: int, start: int = 0) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for s in range(10):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS s{s}")
        # One transaction per 500 tables: a single one runs out of lock slots.
        for lo in range(start, tables, 500):
            with conn.transaction():
                for i in range(lo, min(tables, lo + 500)):
                    conn.execute(
                        f"CREATE TABLE s{i % 10}.t{i} (id bigint PRIMARY KEY, a int, b text, "
                        "c numeric, d timestamptz, e jsonb, f boolean, g date, h uuid, k int[])"
                    )
        conn.execute("ANALYZE")


def _discover(url: str) -> tuple[float, int, int]:
    best = float("inf")
    trips = count = 0
    guards = db.Guards(url, "petcare-dba/bench/discovery")
    for _ in range(3):
        started = time.perf_counter()
        batch = db.read_batch(guards, db.DISCOVERY)
        rels = relations_from_rows(batch.rows["explorer_relations"])
        best = min(best, time.perf_counter() - started)
        trips, count = batch.round_trips, len(rels)
    return best, trips, count


def _baseline(url: str, sample: int) -> tuple[float, int]:
    """information_schema + per-table queries, as psql \\d and many admin tools do."""
    started = time.perf_counter()
    trips = 0
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1, 2 LIMIT %s",
            (sample,),
        ).fetchall()
        trips += 1
        for schema, name in tables:
            conn.execute(
                "SELECT column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position",
                (schema, name),
            ).fetchall()
            conn.execute(
                "SELECT pg_total_relation_size(c.oid), c.reltuples, "
                "obj_description(c.oid, 'pg_class') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s",
                (schema, name),
            ).fetchall()
            trips += 2
    return time.perf_counter() - started, trips


def main(quick: bool) -> dict[str, object]:
    total = 1000 if quick else 10_000
    with server() as url:
        target = fresh_database(url, "bench_discovery")
        _build(target, total // 10)
        small_s, small_trips, _ = _discover(target)
        _build(target, total, start=total // 10)
        seconds, trips, relations = _discover(target)
        sample = 200 if quick else 500
        base_s, base_trips = _baseline(target, sample)
        base_full = base_s * total / sample
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP DATABASE bench_discovery WITH (FORCE)")
    key = "discovery_1k_seconds" if quick else "discovery_10k_seconds"
    return {
        "tables": total,
        "columns": total * COLUMNS,
        "relations_found": relations,
        key: round(seconds, 3),
        "discovery_small_seconds": round(small_s, 3),
        "discovery_round_trips": trips,
        "discovery_round_trips_small": small_trips,
        "round_trips_constant": trips == small_trips,
        "baseline_seconds_extrapolated": round(base_full, 2),
        "baseline_round_trips": int(base_trips * total / sample),
        "speedup_vs_baseline": round(base_full / seconds, 1),
        "goal_met": seconds <= 1.0 and trips == small_trips,
    }
