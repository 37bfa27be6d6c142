"""Benchmark `values`: the one value formatter's CSV and JSON of an engine result vs COPY.

A result of typed columns (int, text, numeric(12,2), timestamptz, text[], bigint, jsonb) is read
through the engine (`engine.run`, its exact loading) and written as CSV (`values.csv_line`) and
as JSON (`values.json_value` + `values.dumps`); the baseline is raw psycopg reading the same
query as `COPY ... TO STDOUT (FORMAT csv)` into memory, the server doing all the formatting.
Reports `values_csv_vs_copy_ratio` (app ms / COPY ms, engine fetch included), the formatter's
own cost per 1,000 rows, and whether the app's CSV is byte for byte the server's.
`--quick` uses 20k rows.
"""

from __future__ import annotations

import io
import statistics
from typing import Any

import psycopg

from bench._engine_env import CONNECTION, environment, timed
from petcare_dba.services.sql import engine, values

QUERY = "SELECT id, name, amount, at, tags, big, doc FROM value_rows ORDER BY id"


def main(quick: bool) -> dict[str, Any]:
    rows = 20_000 if quick else 100_000
    runs = 3 if quick else 5
    with environment() as env:
        env.rt.settings = env.rt.settings.with_overrides(max_rows=rows, max_result_bytes=1 << 30)
        with psycopg.connect(env.target_url, autocommit=True) as conn:
            conn.execute(
                "CREATE UNLOGGED TABLE value_rows AS SELECT g AS id, md5(g::text) AS name, "
                "(g * 1.25)::numeric(12,2) AS amount, "
                "now() - g * interval '1 second' AS at, ARRAY['a,b', md5(g::text)] AS tags, "
                "9007199254740993 + g AS big, jsonb_build_object('k', g, 'v', g * 0.1) AS doc "
                f"FROM generate_series(1, {rows}) g"
            )
            conn.execute("VACUUM ANALYZE value_rows")

        def copy() -> bytes:
            out = io.BytesIO()
            with psycopg.connect(env.target_url) as conn, conn.cursor() as cur:
                with cur.copy(f"COPY ({QUERY}) TO STDOUT (FORMAT csv)") as stream:
                    for chunk in stream:
                        out.write(chunk)
            return out.getvalue()

        def app() -> tuple[str, float, float]:
            result = engine.run(env.rt, env.admin, CONNECTION, QUERY).raise_for_error()
            query = result.results[0]
            csv_ms, text = timed(lambda: "".join(values.csv_line(r) for r in query.rows))
            json_ms, _ = timed(
                lambda: values.dumps(
                    [
                        [values.json_value(v, o) for v, o in zip(r, query.column_oids, strict=True)]
                        for r in query.rows
                    ],
                    indent=None,
                )
            )
            return text, csv_ms, json_ms

        copy_ms, app_ms, csv_ms, json_ms = [], [], [], []
        same = False
        for _ in range(runs):
            ms, server = timed(copy)
            copy_ms.append(ms)
            ms, (text, csv_only, json_only) = timed(app)
            app_ms.append(ms - json_only)
            csv_ms.append(csv_only)
            json_ms.append(json_only)
            same = text.encode() == server
    base, total = statistics.median(copy_ms), statistics.median(app_ms)
    return {
        "values_csv_vs_copy_ratio": round(total / base, 3),
        "rows": rows,
        "same_bytes_as_copy": same,
        "copy_ms": round(base, 1),
        "engine_plus_csv_ms": round(total, 1),
        "csv_format_ms_per_1k_rows": round(statistics.median(csv_ms) / rows * 1000, 3),
        "json_format_ms_per_1k_rows": round(statistics.median(json_ms) / rows * 1000, 3),
    }
