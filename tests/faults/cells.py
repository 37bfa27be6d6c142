"""The rows and columns of the fault matrix: user actions and faults, as plain functions.

An action is what a user does through the services layer (a SELECT through the SQL engine, a
long SELECT they cancel, a table backup, a sign-in followed by a session check, an audited
event, a statement whose intent must be written first); it returns normally when the action
worked and raises a `PetcareError` when it did not — anything else is a traceback reaching the
user and fails the cell. A fault switches something on (`apply`) and off (`lift`): a proxy
toxic on one link, `pg_terminate_backend` of the app's backend while it works, or a stop of the
dedicated cluster (`pg_ctl stop -m fast`, then start: a restart with the action inside it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from petcare_dba.errors import PetcareError, QueryCancelled
from petcare_dba.services import backups
from petcare_dba.services.security import audit, auth
from petcare_dba.services.sql import engine
from tests.faults.fix_matrix import World
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_engine import SEED

# The toxics and their values, toxiproxy's names (T2: latency 500 ms, bandwidth 10 KB/s).
TOXICS: dict[str, float] = {
    "latency": 500,  # ms added to every server->client chunk
    "bandwidth": 10 * 1024,  # bytes per second
    "slicer": 16,  # bytes per slice
    "limit_data": 64,  # bytes, then the connection is closed
    "timeout": 1000,  # ms of silence, then the connection is closed
    "reset_peer": 0,  # ms before the RST
}
# Faults the app must ride out (the action works, only slower) and faults it must report.
DEGRADING = {"latency", "bandwidth", "slicer"}
BREAKING = {"limit_data", "timeout", "reset_peer", "terminate", "restart"}
PROBE = "fault.probe"
COUNTED = "UPDATE t SET note = note || '+' WHERE id = 1"


def select(w: World) -> None:
    result = engine.run(w.rt, w.admin, "tgt", "SELECT id, note FROM t ORDER BY id")
    assert [tuple(r) for r in result.raise_for_error().results[0].rows] == SEED


def cancel(w: World) -> None:
    """A long SELECT the user cancels: QueryCancelled is the success of this action."""
    handle = engine.new_handle()
    box: dict[str, object] = {}

    def body() -> None:
        try:
            box["result"] = engine.run(w.rt, w.admin, "tgt", "SELECT pg_sleep(30)", handle=handle)
        except PetcareError as exc:  # the run could not start (server down): a clear error
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    time.sleep(0.4)
    engine.cancel(handle)
    thread.join(15)
    assert not thread.is_alive(), "the cancelled run did not come back"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    result = box["result"]
    assert isinstance(result, engine.RunResult)
    if not isinstance(result.error, QueryCancelled):
        result.raise_for_error()
        raise AssertionError("a 30 s sleep finished instead of being cancelled")


def backup(w: World) -> None:
    entry = backups.backup(w.rt, w.admin, "tgt", "public", "t")
    assert entry.status == "ok" and entry.row_count == len(SEED)


def statement(w: World) -> None:
    """A statement whose audit intent must be on record before it runs (A1)."""
    engine.run(w.rt, w.admin, "tgt", COUNTED).raise_for_error()


def signin(w: World) -> None:
    signed = auth.login(w.rt.store, w.rt.settings, "admin", ADMIN_PASSWORD)
    actor = auth.resolve(w.rt.store, w.rt.settings, signed.token)
    assert actor is not None and actor.username == "admin"


def audit_write(w: World) -> None:
    audit.record(w.rt.store, w.admin, PROBE, "ok", detail={"cell": "probe"})


ACTIONS: dict[str, Callable[[World], None]] = {
    "select": select,
    "cancel": cancel,
    "backup": backup,
    "statement": statement,
    "signin": signin,
    "audit": audit_write,
}
# Which actions cross which link (the fault sits on that link).
LINK_ACTIONS = {"target": ("select", "cancel", "backup"), "meta": ("statement", "signin", "audit")}
# The table each action waits on when `terminate` holds a lock on it (cancel sleeps instead).
LOCKED = {
    ("target", "select"): "t",
    ("target", "backup"): "t",
    ("meta", "statement"): "petcare.audit_log",
    ("meta", "signin"): "petcare.audit_log",
    ("meta", "audit"): "petcare.audit_log",
}


@dataclass
class Terminator:
    """pg_terminate_backend of the app's backend once it is busy (queued behind `table`'s lock)."""

    url: str
    table: str | None
    killed: list[int] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            holder = None
            if self.table:
                holder = psycopg.connect(self.url)
                holder.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                        sql.Identifier(*self.table.split("."))
                    )
                )
            # With a lock held, only a backend queued behind it is the action's: the app's
            # background loops (settings overlay, slot sweep) are 'active' now and then too,
            # and killing one of them instead let the action through (1 sign-in in 3).
            blocker = holder.info.backend_pid if holder is not None else None
            self.ready.set()
            try:
                deadline = time.monotonic() + 10
                while not self._stop.is_set() and time.monotonic() < deadline:
                    rows = conn.execute(
                        "SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND application_name LIKE 'petcare-dba/%%' AND state = 'active' "
                        "AND (%(blocker)s::int IS NULL "
                        "OR %(blocker)s::int = ANY (pg_blocking_pids(pid)))",
                        {"blocker": blocker},
                    ).fetchall()
                    if rows:
                        self.killed.extend(pid for _, pid in rows)
                        return
                    time.sleep(0.02)
            finally:
                if holder is not None:
                    holder.close()  # the lock goes with it

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)
