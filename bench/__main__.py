"""`python -m bench NAME|all [--quick] [--users N]`: run benchmarks, print JSON results.

The last line sums up. `--users` sizes the scale benchmark (default 50, 6 with `--quick`).

Each benchmark is `bench/<name>.py` with `main(quick: bool) -> dict`; it measures a baseline in
the same run (raw psycopg, psql, pg_dump, pgbench, a bare Streamlit app) and reports ratios.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in ("common", "st_client")
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=[*available(), "all"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI-friendly)")
    parser.add_argument("--users", type=int, help="simulated users (the scale benchmark)")
    args = parser.parse_args()
    names = available() if args.name == "all" else [args.name]
    results = {}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        extra = {"users": args.users} if args.users and name == "scale" else {}
        figures = module.main(quick=args.quick, **extra)
        results[name] = {"benchmark": name, "quick": args.quick, **figures}
        print(json.dumps(results[name], default=str), flush=True)
    if len(names) > 1:  # one object on the last line, as for a single benchmark
        summary = {"benchmark": "all", "quick": args.quick, "results": results}
        print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
