"""The byte cap's measure (db/target/rows.py): a batch's total, measured column by column, is
the sum of its rows' sizes, whatever mix of types and NULLs the columns hold; and `collect` cuts a
result that passes the cap at the last row that fits, batch by batch as the rows arrived."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from petcare_dba.db.target.guards import Limits
from petcare_dba.db.target.rows import Tally, collect, row_sizes, rows_bytes

MIXED = [
    (1, "a", None, decimal.Decimal("1.50"), b"\x00\x01", ["x", "yy"], {"k": "v"}, True),
    (2, None, "", decimal.Decimal("2"), None, None, None, None),
    (None, "ccc" * 40, "é" * 7, None, bytearray(b"abc"), [], {"k": 1}, False),
    (4, "", "x", decimal.Decimal("-0.001"), memoryview(b"zz"), ["z"], None, True),
]
FIXED = [(dt.date(2026, 1, 1), uuid.uuid4(), dt.timedelta(1), 3.5) for _ in range(5)]


def test_the_total_is_the_sum_of_the_rows_for_every_mix_of_types() -> None:
    for rows in (MIXED, FIXED, MIXED[1:2], [(None,)] * 3, [("only text", None)] * 10, []):
        assert rows_bytes(rows) == sum(row_sizes(rows)), rows
    assert row_sizes([("abcd", 7)]) == [4 + 8]


def _limits(max_rows: int, max_bytes: int) -> Limits:
    return Limits(
        statement_timeout_ms=1000,
        lock_timeout_ms=1000,
        idle_in_transaction_timeout_ms=1000,
        max_rows=max_rows,
        max_bytes=max_bytes,
    )


def test_collect_cuts_at_the_last_row_that_fits_across_batches() -> None:
    source = [(i, "x" * (10 if i < 60 else 1000)) for i in range(200)]
    served = 0

    def take(n: int) -> list[tuple[object, ...]]:
        nonlocal served
        got = source[served : served + n]
        served += len(got)
        return got

    tally = Tally()
    kept, truncated, reason = collect(take, tally, _limits(1000, 5000), None, first=50)
    sizes = row_sizes(source)
    fit, total = 0, 0
    while total + sizes[fit] <= 5000:
        total += sizes[fit]
        fit += 1
    assert truncated and reason is not None and "max_result_bytes" in reason
    assert kept == source[:fit]
    assert tally.batches[0] == 50 and tally.rows == sum(tally.batches) == served


def test_collect_stops_at_max_rows_and_at_the_end() -> None:
    source = [(i,) for i in range(30)]

    def take_from(rows: list[tuple[int]]):  # type: ignore[no-untyped-def]
        start = 0

        def take(n: int) -> list[tuple[int]]:
            nonlocal start
            got = rows[start : start + n]
            start += n
            return got

        return take

    kept, truncated, _ = collect(take_from(source), Tally(), _limits(10, 10**6), None)
    assert truncated and kept == source[:10]
    kept, truncated, reason = collect(take_from(source), Tally(), _limits(100, 10**6), None)
    assert not truncated and reason is None and kept == source
