"""`python -m bench NAME [--quick]`: run one benchmark, print its JSON result on the last line.

Each benchmark is `bench/<name>.py` with `main(quick: bool) -> dict`; it measures a baseline in
the same run (raw psycopg, psql, pg_dump, pgbench) and reports ratios.
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
        if not m.name.startswith("_") and m.name != "common"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=available())
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI-friendly)")
    args = parser.parse_args()
    module = importlib.import_module(f"bench.{args.name}")
    result = module.main(quick=args.quick)
    print(json.dumps({"benchmark": args.name, "quick": args.quick, **result}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
