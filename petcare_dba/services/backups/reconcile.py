"""Backups and restores whose process died: heartbeats while they run, and the job that ends them.

A backup or restore row is 'running' from before the first byte until it ends. `heartbeat`
keeps a daemon thread beating the row's heartbeat_at every HEARTBEAT_S while the work runs in
the calling thread, so a row whose heartbeat is older than STALE_S belongs to a process that
stopped (kill -9, crash, power). `reconcile_interrupted`, run once a minute by the collector,
marks such rows 'failed' with the reason, deletes a dead backup's partial directory and audits
each one. A restore needs no cleanup: its single transaction died with its connection.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

HEARTBEAT_S = 30.0
STALE_S = 300  # ten missed beats: a process that is merely slow is not declared dead


@contextmanager
def heartbeat(rt: Runtime, actor: Actor, kind: str, row_id: int) -> Iterator[None]:
    """Beat `kind` ('backup' or 'restore') row `row_id` every HEARTBEAT_S until the block ends."""
    query = "backup_heartbeat" if kind == "backup" else "restore_heartbeat"
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            with suppress(PetcareError):  # a missed beat is retried; STALE_S allows ten
                with rt.store.tx(actor.identity) as tx:
                    tx.execute(query, {"id": row_id})

    thread = threading.Thread(target=beat, name=f"petcare-{kind}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=HEARTBEAT_S)


def reconcile_interrupted(rt: Runtime, actor: Actor, stale_s: int = STALE_S) -> list[str]:
    """Fail the 'running' backups and restores that stopped beating; what was ended."""
    with rt.store.tx(actor.identity) as tx:
        backups = tx.all("backup_mark_interrupted", {"stale_s": stale_s})
        restores = tx.all("restore_mark_interrupted", {"stale_s": stale_s})
    ended: list[str] = []
    for b in backups:
        label = f"{b['connection_name']}:{b['schema_name']}.{b['table_name']}"
        folder = files.partial_dir(
            rt.settings, int(b["id"]), b["connection_name"], b["schema_name"], b["table_name"]
        )
        shutil.rmtree(folder, ignore_errors=True)
        audit.record(
            rt.store,
            actor,
            "backup.create",
            "error",
            target=label,
            detail={"backup_id": b["id"], "error": b["error"], "reconciled": True},
        )
        ended.append(f"backup {b['id']} of {label}")
    for r in restores:
        label = f"{r['target_schema']}.{r['target_table']}"
        audit.record(
            rt.store,
            actor,
            "backup.restore",
            "error",
            target=label,
            detail={
                "backup_id": r["backup_id"],
                "restore_id": r["id"],
                "error": r["error"],
                "reconciled": True,
            },
        )
        ended.append(f"restore {r['id']} into {label}")
    return ended
