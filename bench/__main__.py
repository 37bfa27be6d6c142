"""`python -m bench NAME|all [--quick] [--users N] [--minutes M] [--reconnect-s S]`: run benchmarks.

Prints JSON results; the last line sums up. `--users` sizes the scale benchmark (default 50, 6
with `--quick`) and the soak (default 5, 3 with `--quick`); `--minutes` and `--reconnect-s` set
the soak's duration (default 30, 3 with `--quick`) and websocket reconnect period (default 300).

Each benchmark is `bench/<name>.py` with `main(quick: bool) -> dict`; it measures a baseline in
the same run (raw psycopg, psql, pg_dump, pgbench, a bare Streamlit app) and reports ratios.
`screenshot` is the one that is not a benchmark: it renews the README's picture, on request only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

NOT_IN_ALL = ("screenshot",)


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in ("common", "st_client")
    )


def _options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The options a benchmark takes beyond `quick` (only those given)."""
    takes = {"scale": ("users",), "soak": ("users", "minutes", "reconnect_s")}.get(name, ())
    return {k: getattr(args, k) for k in takes if getattr(args, k)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=[*available(), "all"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI-friendly)")
    parser.add_argument("--users", type=int, help="simulated users (scale, soak)")
    parser.add_argument("--minutes", type=float, help="the soak's duration")
    parser.add_argument("--reconnect-s", type=float, help="the soak's websocket reconnect period")
    args = parser.parse_args()
    # `screenshot` renews docs/img/dashboard.png: a chore on request, not a benchmark.
    names = [n for n in available() if n not in NOT_IN_ALL] if args.name == "all" else [args.name]
    results = {}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        extra = _options(name, args)
        figures = module.main(quick=args.quick, **extra)
        results[name] = {"benchmark": name, "quick": args.quick, **figures}
        print(json.dumps(results[name], default=str), flush=True)
    if len(names) > 1:  # one object on the last line, as for a single benchmark
        summary = {"benchmark": "all", "quick": args.quick, "results": results}
        print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
