"""The simulated clinic workload's own sessions on the demo database.

`WorkloadSession` is one autocommit connection that runs the named statements of
`sql/workload.sql` (sent bare, without their description comment, as a clinic app would send
them), can hold a transaction open for the lock-wait episode (`hold`), and can be cancelled
from another thread so that a stop never waits for a slow report or a lock. Only the demo workload
(services/connections/workload.py) uses it.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from petcare_dba.db import queries
from petcare_dba.db.errors import translated


class WorkloadSession:
    """One named session of the workload; every method may raise PetcareError."""

    def __init__(
        self, url: str, application_name: str, *, lock_timeout_ms: int, statement_timeout_ms: int
    ) -> None:
        with translated():
            self._conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=10, prepare_threshold=None
            )
            self._conn.execute(
                queries.get("workload_session"),
                {
                    "application_name": application_name,
                    "lock_timeout": f"{int(lock_timeout_ms)}ms",
                    "statement_timeout": f"{int(statement_timeout_ms)}ms",
                },
            )
        self._guard = threading.Lock()

    def run(self, name: str, params: dict[str, Any] | None = None) -> int:
        """Run the named statement; the rows it returned or changed."""
        with translated():
            cur = self._conn.execute(queries.bare(name), params or {})
            if cur.description is not None:
                return len(cur.fetchall())
            return max(0, cur.rowcount)

    def hold(self, name: str, params: dict[str, Any], seconds: float, stop: threading.Event) -> int:
        """Run the named statement in a transaction kept open `seconds` (less if `stop` is set).

        The lock it takes is what the workload's lock-wait episode waits for.
        """
        with translated(), self._conn.transaction():
            cur = self._conn.execute(queries.bare(name), params)
            stop.wait(seconds)
            return max(0, cur.rowcount)

    def cancel(self) -> None:
        """Cancel what the session is running now (from another thread); never raises."""
        try:
            self._conn.cancel_safe(timeout=2.0)
        except (psycopg.Error, OSError):
            pass  # the session is going away anyway

    def close(self) -> None:
        with self._guard:
            self._conn.close()
