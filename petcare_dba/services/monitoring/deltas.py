"""Turning cumulative PostgreSQL counters into per-interval rates and deltas, safely.

PostgreSQL's statistics are counters since the last reset (`stats_reset`) or server start. A
sample's rate is (current - previous) / elapsed, which goes wrong when counters restart: after
`pg_stat_reset()`, a crash, or a restart the difference is negative or meaningless. These pure
functions compare reset markers and the postmaster start time and skip (re-baseline) a group of
counters instead of storing a negative or absurd value. pg_stat_statements is never reset by us;
per statement, a counter that went down means the entry restarted after our last look (reset,
eviction, crash), so its current value is exactly what happened since then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Cumulative counter groups, each with the column that says when it was last reset.
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "db": (
        "db_stats_reset",
        (
            "xact_commit",
            "xact_rollback",
            "blks_read",
            "blks_hit",
            "tup_returned",
            "tup_fetched",
            "tup_inserted",
            "tup_updated",
            "tup_deleted",
            "deadlocks",
            "temp_bytes",
            "temp_files",
        ),
    ),
    "wal": ("wal_stats_reset", ("wal_bytes",)),
    "ckpt": (
        "ckpt_stats_reset",
        ("checkpoints_timed", "checkpoints_requested", "checkpoint_buffers"),
    ),
}
STATEMENT_FIELDS = ("calls", "total_ms", "rows", "blks_hit", "blks_read")


@dataclass(frozen=True)
class Rates:
    """The rate metrics of one round and whether counters were found reset."""

    metrics: dict[str, float]
    reset_groups: tuple[str, ...]


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def baseline(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The counters of this round in the shape stored as the next baseline (JSON-friendly)."""
    out: dict[str, dict[str, Any]] = {}
    for group, (reset_col, cols) in GROUPS.items():
        if all(raw.get(c) is not None for c in cols):
            values: dict[str, Any] = {c: float(raw[c]) for c in cols}
            values["reset"] = _iso(raw.get(reset_col))
            out[group] = values
    if "pgss_reset" in raw:
        out["pgss"] = {
            "reset": _iso(raw["pgss_reset"]),
            "complete": bool(raw.get("pgss_complete")),
        }
    return out


def rates(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    elapsed_s: float | None,
    *,
    restarted: bool,
    max_elapsed_s: float,
) -> Rates:
    """Per-second rates and per-interval counts from two baselines; reset groups are skipped."""
    if previous is None or elapsed_s is None or elapsed_s <= 0 or restarted:
        return Rates({}, tuple(GROUPS) if restarted else ())
    if elapsed_s > max_elapsed_s:
        # The collector was away for long: an average over hours is not a sample of now.
        return Rates({}, ())
    d: dict[str, float] = {}
    reset: list[str] = []
    for group, (_, cols) in GROUPS.items():
        old, new = previous.get(group), current.get(group)
        if not old or not new:
            continue
        if old.get("reset") != new.get("reset") or any(new[c] < old[c] for c in cols):
            reset.append(group)
            continue
        d.update({c: new[c] - old[c] for c in cols})
    m: dict[str, float] = {}
    if "xact_commit" in d:
        m["tps"] = (d["xact_commit"] + d["xact_rollback"]) / elapsed_s
        m["commits_per_s"] = d["xact_commit"] / elapsed_s
        m["rollbacks_per_s"] = d["xact_rollback"] / elapsed_s
        reads = d["blks_hit"] + d["blks_read"]
        if reads > 0:
            m["cache_hit_pct"] = 100.0 * d["blks_hit"] / reads
        for col in ("tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted"):
            m[col.replace("tup_", "tuples_") + "_per_s"] = d[col] / elapsed_s
        m["deadlocks"] = d["deadlocks"]
        m["temp_bytes_per_s"] = d["temp_bytes"] / elapsed_s
        m["temp_files"] = d["temp_files"]
    if "wal_bytes" in d:
        m["wal_bytes_per_s"] = d["wal_bytes"] / elapsed_s
    if "checkpoints_timed" in d:
        m["checkpoints_timed"] = d["checkpoints_timed"]
        m["checkpoints_requested"] = d["checkpoints_requested"]
        m["checkpoint_buffers_per_s"] = d["checkpoint_buffers"] / elapsed_s
    return Rates(m, tuple(reset))


def statement_deltas(
    previous: Mapping[tuple[int, int], Mapping[str, Any]],
    current: Iterable[Mapping[str, Any]],
    *,
    reset_changed: bool,
    max_age_s: float,
    previous_complete: bool = False,
) -> list[dict[str, Any]]:
    """Per-statement deltas since the previous snapshot; never negative.

    A statement first seen now is a baseline (its counters may span days, outside our top N)
    unless the view was reset since our last look or the previous snapshot held every entry
    (`previous_complete`: then the entry was created since). A snapshot older than `max_age_s`
    (the statement left the top N for a while) is a baseline too, so its growth is not
    attributed to one interval.
    """
    out: list[dict[str, Any]] = []
    for row in current:
        key = (int(row["queryid"]), int(row["userid"]))
        old = previous.get(key)
        if old is None:
            if not (reset_changed or previous_complete):
                continue
            delta = {f: row[f] for f in STATEMENT_FIELDS}
        elif float(old["age_s"]) > max_age_s:
            continue
        elif any(float(row[f]) < float(old[f]) for f in STATEMENT_FIELDS):
            delta = {f: row[f] for f in STATEMENT_FIELDS}
        else:
            delta = {f: row[f] - old[f] for f in STATEMENT_FIELDS}
        if delta["calls"] > 0:
            out.append({"queryid": key[0], "userid": key[1], **delta})
    return out
