"""Benchmark `export`: CSV export of 1M rows through the app vs `psql \\copy ... to`.

The app path is `services.export.export` (read-only transaction, audit rows, COPY TO STDOUT
streamed chunk by chunk to a file); the baseline is the psql binary matching the embedded
server writing the same query to a file with `\\copy`. `export_vs_psql_ratio` = app throughput
/ psql throughput (goal >= 0.8). `--quick` exports 200k rows.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench._engine_env import CONNECTION, environment, machine, rss_mb, timed
from petcare_dba.db import embedded
from petcare_dba.services.sql import export

QUERY = "SELECT id, name, amount, created_at FROM export_rows"


def _psql(url: str, path: Path) -> None:
    psql = embedded.bin_dir() / "psql"
    command = f"\\copy ({QUERY}) to '{path}' with (format csv, header)"
    subprocess.run(
        [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command, url],
        check=True,
        capture_output=True,
    )


def main(quick: bool) -> dict[str, Any]:
    rows = 200_000 if quick else 1_000_000
    runs = 3 if quick else 5
    with environment() as env:
        env.rt.settings = env.rt.settings.with_overrides(export_max_rows_admin=rows * 2)
        with psycopg.connect(env.target_url, autocommit=True) as conn:
            conn.execute(
                "CREATE UNLOGGED TABLE export_rows AS SELECT g AS id, md5(g::text) AS name, "
                "(g * 1.25)::numeric(12,2) AS amount, now() - g * interval '1 second' AS "
                f"created_at FROM generate_series(1, {rows}) g"
            )
            conn.execute("VACUUM ANALYZE export_rows")
        folder = Path(tempfile.mkdtemp(prefix="petcare-bench-export-"))
        app_path, psql_path = folder / "app.csv", folder / "psql.csv"
        app_ms, psql_ms = [], []
        peak = 0.0
        base = rss_mb()
        try:
            for _ in range(runs):
                psql_ms.append(timed(lambda: _psql(env.target_url, psql_path))[0])

                def run() -> export.ExportResult:
                    with app_path.open("wb") as out:
                        return export.export(env.rt, env.admin, CONNECTION, QUERY, out)

                ms, result = timed(run)
                app_ms.append(ms)
                peak = max(peak, rss_mb() - base)
                assert result.rows == rows
            same = app_path.stat().st_size == psql_path.stat().st_size
            size = app_path.stat().st_size
        finally:
            for path in (app_path, psql_path):
                if path.exists():
                    os.unlink(path)
            folder.rmdir()
    app, base_ms = statistics.median(app_ms), statistics.median(psql_ms)
    return {
        "export_vs_psql_ratio": round(base_ms / app, 3),
        "goal": ">= 0.8",
        "rows": rows,
        "bytes": size,
        "same_size_as_psql": same,
        "app_ms": round(app, 1),
        "psql_ms": round(base_ms, 1),
        "app_mb_per_s": round(size / 1e6 / (app / 1000), 1),
        "psql_mb_per_s": round(size / 1e6 / (base_ms / 1000), 1),
        "rss_growth_mb": round(peak, 1),
        "runs": runs,
        "server": "embedded" if env.embedded else "PETCARE_BENCH_DATABASE_URL",
        "machine": machine(),
    }
