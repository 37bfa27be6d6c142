"""Whether an idle connection is still usable, checked without a round trip.

Both pools (the metadata store's and the targets') ask before they hand out an idle connection,
so that a backend terminated or restarted while idle costs a reconnect instead of a failed
statement.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg


def idle_socket_healthy(conn: psycopg.Connection[Any]) -> bool:
    """False when an idle connection is closed or the server wrote to it (terminated, restarted).

    An idle backend sends nothing unless it is going away, so a readable socket means the next
    statement would fail; checking costs no round trip.
    """
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not readable
