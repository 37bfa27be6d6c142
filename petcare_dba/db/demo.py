"""The `petcare` demo database: realistic pet-care data to show and measure the product on.

`build_demo` fills an existing, dedicated database (the caller creates it) from three SQL files in
`petcare_dba/sql/demo/`: `schema.sql` (types, tables, comments), `data.sql` (set-based generation
on the server, deterministic per scale) and `indexes.sql` (constraints, indexes, views,
statistics). Each `-- name:` block of those files is one build step, run in file order on one
connection and reported to `progress`, except the few control blocks the builder runs itself.
A one-row `demo_build` table records the scale and whether the build finished, which makes the
build idempotent: a finished build at the requested scale is left alone, a failed one is
replaced. Scale 1 puts 100,000 rows in `appointments`, the largest table; scale N multiplies
every table but the lookups by N.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import psycopg

from petcare_dba.db.errors import translated
from petcare_dba.db.queries import Query, parse
from petcare_dba.errors import ConfigError

# Bump when the generated data changes: a build from another version counts as a different scale.
GENERATOR_VERSION = 1
SQL_FILES = ("schema.sql", "data.sql", "indexes.sql")
# Blocks of schema.sql the builder runs itself, before deciding whether to build.
_CONTROL = frozenset({"setup_session", "probe_objects", "probe_state", "create_stat_statements"})

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoSummary:
    """What a demo database holds: row counts per table, the scale, and this call's duration."""

    tables: dict[str, int] = field(hash=False)
    seconds: float
    scale: int
    created: bool = False


@dataclass(frozen=True)
class _State:
    scale: int
    version: int
    complete: bool
    tables: dict[str, int]


def _blocks() -> dict[str, Query]:
    """Every named block of the three SQL files, in execution order."""
    root = resources.files("petcare_dba") / "sql" / "demo"
    blocks: dict[str, Query] = {}
    for name in SQL_FILES:
        for key, query in parse((root / name).read_text(encoding="utf-8"), name).items():
            if key in blocks:
                raise ConfigError(f"demo SQL block {key!r} is defined twice")
            blocks[key] = query
    return blocks


def _read_state(conn: psycopg.Connection[Any], blocks: dict[str, Query]) -> _State | None:
    has_marker, taken = conn.execute(blocks["probe_objects"].text).fetchone() or (False, [])
    if not has_marker:
        if taken:
            raise ConfigError(
                f"this database already has {', '.join(taken)} but no demo_build marker",
                hint="build the demo into an empty database (e.g. CREATE DATABASE petcare)",
            )
        return None
    row = conn.execute(blocks["probe_state"].text).fetchone()
    if row is None:
        return None
    scale, version, complete, counts = row
    return _State(
        int(scale), int(version), bool(complete), {str(k): int(v) for k, v in counts.items()}
    )


def _setup(conn: psycopg.Connection[Any], blocks: dict[str, Query], scale: int) -> None:
    conn.execute(
        blocks["setup_session"].text, {"scale": str(scale), "version": str(GENERATOR_VERSION)}
    )


def build_demo(
    url: str,
    scale: int = 1,
    progress: Progress | None = None,
    *,
    rebuild: bool = False,
) -> DemoSummary:
    """Generate the demo data into the database at `url` unless it is already there.

    A finished build at `scale` (and the current generator version) is kept as is. A finished
    build at another scale is replaced only when `rebuild` is true, otherwise its summary is
    returned. An unfinished build (an earlier run failed) is always replaced. `progress` gets
    `(step description, fraction done)` before each step and `("done", 1.0)` at the end.
    """
    if scale < 1:
        raise ConfigError(f"demo scale must be a positive integer, got {scale}")
    started = time.monotonic()
    report = progress or (lambda _label, _fraction: None)
    blocks = _blocks()
    steps = [q for name, q in blocks.items() if name not in _CONTROL]
    with translated(), psycopg.connect(url, autocommit=True) as conn:
        _setup(conn, blocks, scale)
        state = _read_state(conn, blocks)
        if state is not None and state.complete:
            same = state.scale == scale and state.version == GENERATOR_VERSION
            if same or not rebuild:
                report("done", 1.0)
                return DemoSummary(state.tables, time.monotonic() - started, state.scale)
        for index, step in enumerate(steps):
            report(step.description or step.name, index / len(steps))
            conn.execute(step.text)
        state = _read_state(conn, blocks)
    report("done", 1.0)
    tables = state.tables if state is not None else {}
    return DemoSummary(tables, time.monotonic() - started, scale, created=True)


def ensure_stat_statements(superuser_url: str) -> bool:
    """CREATE EXTENSION pg_stat_statements in the demo database at `superuser_url`.

    The embedded server preloads the library; on a server that does not, the extension is
    created anyway (its views then report that the library is not loaded, which the advisor
    shows as "unavailable"). False when the server has no such extension (contrib missing) or
    the role may not create it.
    """
    with translated(), psycopg.connect(superuser_url, autocommit=True) as conn:
        try:
            conn.execute(_blocks()["create_stat_statements"].text)
        except (psycopg.errors.UndefinedFile, psycopg.errors.InsufficientPrivilege):
            return False  # no contrib, or a managed server's admin: monitoring says unavailable
    return True


def demo_exists(url: str) -> bool:
    """Whether the database at `url` holds a finished demo build (of any scale)."""
    blocks = _blocks()
    with translated(), psycopg.connect(url, autocommit=True) as conn:
        try:
            state = _read_state(conn, blocks)
        except ConfigError:
            return False
    return state is not None and state.complete
