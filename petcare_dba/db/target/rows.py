"""Capped collection of a result's rows: batches fetched until the result ends, max_rows + 1
rows arrive or the byte cap is passed, with what the rows weigh measured on the way.

The byte cap protects this process's memory, so the loaded values are measured: text and binary
by length, numbers and other fixed-size values by a constant per column. Every batch's total is
measured column by column with C-level iteration (`rows_bytes`); the size of each row is worked
out only when a batch passes the cap, to find how many rows fit (`row_sizes`). On a 1000-row
result, measuring each value from Python cost more than the query's own server time (issue 16).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from petcare_dba.db.target.guards import Limits
    from petcare_dba.db.target.pool import CancelHandle

Row = tuple[Any, ...]

# The first batch is small so that a result of huge rows (1 MB text each) does not overshoot the
# byte cap by a whole batch; later batches are sized from the average row seen so far.
FIRST_BATCH = 50
MAX_BATCH = 2000
_FIXED_SIZE = (decimal.Decimal, dt.date, dt.time, dt.timedelta, uuid.UUID)
_TEXT_ONLY = frozenset({str, type(None)})


class Tally:
    """What the rows collected so far weigh: their count, their bytes, each batch's length."""

    __slots__ = ("batches", "bytes", "rows")

    def __init__(self) -> None:
        self.rows = 0
        self.bytes = 0
        self.batches: list[int] = []

    def add(self, rows: Sequence[Row]) -> None:
        self.rows += len(rows)
        self.bytes += rows_bytes(rows)
        self.batches.append(len(rows))


def collect(
    take: Callable[[int], list[Row]],
    tally: Tally,
    limits: Limits,
    handle: CancelHandle | None,
    first: int = FIRST_BATCH,
) -> tuple[list[Row], bool, str | None]:
    """Fetch batches until the result ends, max_rows + 1 rows arrive or max_bytes is passed.

    `take(n)` fetches the next n rows; `tally` counts them as they arrive (a caller reads
    `tally.rows` inside `take` to know what came before).
    """
    rows: list[Row] = []
    want = limits.max_rows + 1
    batch = min(first, want)
    while True:
        if handle is not None:
            handle.check()
        got = take(batch)
        tally.add(got)
        rows.extend(got)
        used = tally.bytes
        if used > limits.max_bytes:
            kept = _fitting(rows, tally.batches, limits.max_bytes)
            return (
                rows[:kept],
                True,
                (
                    f"the result passed max_result_bytes ({limits.max_bytes} bytes); "
                    f"showing the first {kept} rows"
                ),
            )
        if len(rows) > limits.max_rows:
            return (
                rows[: limits.max_rows],
                True,
                (
                    f"more than max_rows ({limits.max_rows}) rows; showing the first "
                    f"{limits.max_rows}"
                ),
            )
        if len(got) < batch:
            return rows, False, None
        average = max(1, used // max(1, len(rows)))
        batch = max(1, min(MAX_BATCH, want - len(rows), (limits.max_bytes - used) // average + 1))


def _fitting(rows: list[Row], batches: list[int], max_bytes: int) -> int:
    """How many leading rows fit in max_bytes, each batch measured as `rows_bytes` measured it."""
    kept, total, start = 0, 0, 0
    for length in batches:
        for size in row_sizes(rows[start : start + length]):
            if total + size > max_bytes:
                return kept
            total += size
            kept += 1
        start += length
    return kept


def _kind(column: Sequence[Any]) -> int | None:
    """The fixed size of a column's values (by its first value), or None to measure each."""
    sample = next((v for v in column if v is not None), None)
    if sample is None or isinstance(sample, int | float | bool):
        return 8
    if isinstance(sample, _FIXED_SIZE):
        return 32
    return None


def rows_bytes(rows: Sequence[Row]) -> int:
    """Approximate bytes the rows hold in memory; equal to `sum(row_sizes(rows))`."""
    if not rows:
        return 0
    total = 0
    for column in zip(*rows, strict=True):
        fixed = _kind(column)
        if fixed is not None:
            total += fixed * len(column)
        elif set(map(type, column)) <= _TEXT_ONLY:
            total += sum(map(len, filter(None, column)))
        else:
            total += sum(map(_size, column))
    return total


def row_sizes(rows: Sequence[Row]) -> list[int]:
    """Approximate bytes each row holds in memory: text and binary by length, scalars fixed.

    libpq's PGresult does not expose value lengths through psycopg's binary build, and what the
    cap protects is this process's memory, so the loaded values are measured. A column's Python
    type follows its PostgreSQL type, so columns of fixed-size values (numbers, dates, uuids)
    are counted once per batch instead of value by value.
    """
    if not rows:
        return []
    sizes = [0] * len(rows)
    for column in zip(*rows, strict=True):
        fixed = _kind(column)
        each = [fixed] * len(column) if fixed is not None else list(map(_size, column))
        sizes = list(map(int.__add__, sizes, each))
    return sizes


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, int | float | bool):
        return 8
    return len(str(value))
