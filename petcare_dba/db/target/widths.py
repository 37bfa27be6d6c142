"""Row widths remembered per statement, so a repeated query fetches its rows in one round trip.

A cursor's first FETCH is small (`FIRST_BATCH` rows) because nothing is known of the rows yet: a
result of 1 MB values must not overshoot the byte cap by a whole batch. That first look costs a
second round trip for every result over 50 rows, which on a 20-80 ms link is most of what a
statement costs (issue 16). The average row width of a statement on a server is remembered here
(in this process, keyed by a digest of server, database, login and text, at most `_KEEP`
entries), and the next run of the same statement asks for max_rows + 1 rows at once when that many
rows, eight times as wide as last time, fit in a quarter of the byte cap. The byte cap itself is
still applied to what arrives; only rows that grew more than eightfold since the statement's last
run make that first batch overshoot it, as a 50-row batch of huge rows always could.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import psycopg

from petcare_dba.db.target.rows import Tally

_KEEP = 1024
_MARGIN = 8  # rows may be this much wider than last time and the first batch stays in budget
_lock = threading.Lock()
_widths: OrderedDict[bytes, int] = OrderedDict()


def key(conn: psycopg.Connection[Any], text: str) -> bytes:
    """The statement's digest on this server, database and login (never the text itself)."""
    info = conn.info
    where = f"{info.host}\0{info.port}\0{info.dbname}\0{info.user}\0".encode()
    return hashlib.blake2b(where + text.encode(), digest_size=16).digest()


def first_batch(statement: bytes, want: int, max_bytes: int, default: int) -> int:
    """How many rows the first FETCH asks for: `want` when the remembered width allows it."""
    with _lock:
        width = _widths.get(statement)
        if width is not None:
            _widths.move_to_end(statement)
    if width is None or want <= default:
        return min(default, want)
    return want if want * max(width, 1) * _MARGIN <= max_bytes // 4 else min(default, want)


def learn(statement: bytes, tally: Tally) -> None:
    """Remember the average width of the rows that arrived (nothing when none did)."""
    if not tally.rows:
        return
    with _lock:
        _widths[statement] = max(1, tally.bytes // tally.rows)
        _widths.move_to_end(statement)
        while len(_widths) > _KEEP:
            _widths.popitem(last=False)


def forget() -> None:
    """Drop every remembered width (tests start from the first-look behaviour)."""
    with _lock:
        _widths.clear()
