"""Backup and restore throughput of a 1M-row table against pg_dump -t / pg_restore.

Ours: `db.backup.copy_out` (binary COPY streamed to a file, sha256 on the fly) and
`db.backup.copy_in` into a new table (one transaction, row count checked; `restore_verified_*`
adds the checksum re-read that the app does by default). Baseline, same run and same server,
with the client binaries of the server's major version: `pg_dump -Fc -Z0 -t TABLE` and
`pg_restore` of that dump into an empty database. Ratios are baseline time / our time (≥ 1 means
we are faster; the goal is ≥ 0.8). Best of N runs each.

The partitioned pass (issue 16) runs the app's own path, `db.backup_tree.copy_tree_out` and
`restore_tree` into a new tree with its primary key, on the same rows hash-partitioned eight
ways, against `pg_dump -t 'visits_p*'` and a full `pg_restore` (which also builds the key).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from bench._pg import client_bin, fresh_database, server
from petcare_dba.db.target import backup as db
from petcare_dba.db.target import backup_tree as tree
from petcare_dba.services.backups import plan

TABLE = "visits"
COLUMNS = [
    db.Column("id", "bigint"),
    db.Column("pet_id", "integer"),
    db.Column("at", "timestamp with time zone"),
    db.Column("price", "numeric(10,2)"),
    db.Column("notes", "text"),
    db.Column("paid", "boolean"),
]


def _build(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE public.visits (id bigint PRIMARY KEY, pet_id integer, "
            "at timestamptz, price numeric(10,2), notes text, paid boolean)"
        )
        conn.execute(
            "INSERT INTO public.visits SELECT g, g %% 5000, now() - g * interval '1 minute', "
            "(g %% 997) * 1.25, 'visit note ' || md5(g::text), g %% 2 = 0 "
            "FROM generate_series(1, %s) g",
            (rows,),
        )
        conn.execute(
            "CREATE TABLE public.visits_p (LIKE public.visits INCLUDING ALL) PARTITION BY HASH (id)"
        )
        for r in range(8):
            conn.execute(
                f"CREATE TABLE public.visits_p{r} PARTITION OF public.visits_p "
                f"FOR VALUES WITH (MODULUS 8, REMAINDER {r})"
            )
        conn.execute("INSERT INTO public.visits_p TABLE public.visits")
        conn.execute("VACUUM ANALYZE public.visits, public.visits_p")


def _time(fn: object, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def main(quick: bool) -> dict[str, object]:
    rows = 100_000 if quick else 1_000_000
    runs = 2 if quick else 3
    with server() as url, tempfile.TemporaryDirectory(prefix="petcare-bench-") as tmp:
        work = Path(tmp)
        source = fresh_database(url, "bench_backup_src")
        _build(source, rows)
        bindir = client_bin(url)
        restore_url = fresh_database(url, "bench_backup_dst")
        ours_file = work / "data.copy"
        dump_file = work / "visits.dump"
        result: dict[str, db.CopyResult] = {}

        def ours_backup() -> None:
            ours_file.unlink(missing_ok=True)
            result["r"] = db.copy_out(source, "bench", "public", TABLE, COLUMNS, ours_file)

        def pg_dump() -> None:
            subprocess.run(
                [
                    str(bindir / "pg_dump"),
                    "-Fc",
                    "-Z0",
                    "-t",
                    f"public.{TABLE}",
                    "-f",
                    str(dump_file),
                    "--dbname",
                    source,
                ],
                check=True,
            )

        def drop(table: str) -> None:
            with psycopg.connect(restore_url, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS public.{table}")

        def ours_restore(verify: bool) -> None:
            drop("visits_restored")
            db.copy_in(
                restore_url,
                "bench",
                "public",
                "visits_restored",
                result["r"].columns,  # as the app restores: the catalogue's definitions
                ours_file,
                replace=False,
                expected_rows=rows,
                expected_sha256=result["r"].sha256 if verify else None,
            )

        def pg_restore() -> None:
            drop(TABLE)
            subprocess.run(
                [
                    str(bindir / "pg_restore"),
                    "--no-owner",
                    "--section=pre-data",
                    "--section=data",
                    "--dbname",
                    restore_url,
                    str(dump_file),
                ],
                check=True,
            )

        folder = work / "tree"
        trees: dict[str, tree.Tree] = {}

        def ours_tree_backup() -> None:
            if folder.exists():
                for f in folder.iterdir():
                    f.unlink()
            folder.mkdir(exist_ok=True)
            trees["t"] = tree.copy_tree_out(source, "bench", "public", "visits_p", COLUMNS, folder)

        def ours_tree_restore() -> None:
            drop("copy")
            t = trees["t"]
            files = [folder / m.data_file if m.data_file else None for m in t.members]
            tree.restore_tree(
                restore_url,
                "bench",
                plan.placement(t.members, "public", "copy", files),
                t.columns,
                replace_rows=False,
                structure=t.structure,
                names=plan.for_structure(t.structure, "visits_p", "copy"),
            )

        def pg_dump_tree() -> None:
            subprocess.run(
                [
                    *(str(bindir / "pg_dump"), "-Fc", "-Z0", "-t", "public.visits_p*"),
                    *("-f", str(work / "tree.dump"), "--dbname", source),
                ],
                check=True,
            )

        def pg_restore_tree() -> None:
            drop("visits_p")
            subprocess.run(
                [
                    str(bindir / "pg_restore"),
                    "--no-owner",
                    "--dbname",
                    restore_url,
                    str(work / "tree.dump"),
                ],
                check=True,
            )

        tree_backup_s = _time(ours_tree_backup, runs)
        tree_dump_s = _time(pg_dump_tree, runs)
        tree_restore_s = _time(ours_tree_restore, runs)
        tree_pg_restore_s = _time(pg_restore_tree, runs)
        backup_s = _time(ours_backup, runs)
        dump_s = _time(pg_dump, runs)
        restore_s = _time(lambda: ours_restore(False), runs)
        restore_verified_s = _time(lambda: ours_restore(True), runs)
        pg_restore_s = _time(pg_restore, runs)
        size = ours_file.stat().st_size
        dump_size = dump_file.stat().st_size
        with psycopg.connect(url, autocommit=True) as conn:
            for name in ("bench_backup_src", "bench_backup_dst"):
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    return {
        "rows": rows,
        "backup_bytes": size,
        "pg_dump_bytes": dump_size,
        "client": str(bindir),
        "backup_seconds": round(backup_s, 3),
        "pg_dump_seconds": round(dump_s, 3),
        "restore_seconds": round(restore_s, 3),
        "restore_verified_seconds": round(restore_verified_s, 3),
        "pg_restore_seconds": round(pg_restore_s, 3),
        "backup_vs_pg_dump_ratio": round(dump_s / backup_s, 2),
        "restore_vs_pg_restore_ratio": round(pg_restore_s / restore_s, 2),
        "restore_verified_vs_pg_restore_ratio": round(pg_restore_s / restore_verified_s, 2),
        "backup_mib_per_s": round(size / backup_s / 1048576, 1),
        "partitioned_backup_seconds": round(tree_backup_s, 3),
        "partitioned_restore_seconds": round(tree_restore_s, 3),
        "partitioned_backup_vs_pg_dump_ratio": round(tree_dump_s / tree_backup_s, 2),
        "partitioned_restore_vs_pg_restore_ratio": round(tree_pg_restore_s / tree_restore_s, 2),
        "goal_met": dump_s / backup_s >= 0.8 and pg_restore_s / restore_s >= 0.8,
    }
