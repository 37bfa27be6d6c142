"""Retention of backups by count and age, deleting files and catalogue together.

`prune` deletes every backup older than the global backup_retention_days (after each backup),
audited as `backup.prune`; `delete` removes one backup's files and marks its catalogue row
'deleted', audited as `backup.delete`; `keep_latest` applies a count and/or
age limit to the finished backups of one table (the scheduled backups of issue 20). A backup
that is still running is never touched. dba and admin only, like every backup action.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

from petcare_dba.errors import NotFound, PetcareError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files, storage
from petcare_dba.services.backups.catalogue import audit_event, get, list_backups
from petcare_dba.services.runtime import Runtime


def delete(rt: Runtime, actor: Actor, backup_id: int, *, reason: str = "") -> None:
    """Delete one finished backup's files and mark it deleted in the catalogue (dba)."""
    entry = get(rt, actor, backup_id)
    if entry.status not in ("ok", "failed"):
        raise NotFound(say("msg.backups.delete_unfinished", id=str(backup_id), status=entry.status))
    if entry.path:
        shutil.rmtree(files.store_dir(rt.settings) / entry.path, ignore_errors=True)
    with rt.store.tx(actor.identity) as tx:
        tx.execute("backup_mark_deleted", {"id": backup_id})
    audit_event(
        rt,
        actor,
        "backup.delete",
        "ok",
        target=f"{entry.connection_name}:{entry.schema_name}.{entry.table_name}",
        detail={"backup_id": backup_id, "reason": reason[:200]},
    )


def keep_latest(
    rt: Runtime,
    actor: Actor,
    connection: str,
    schema: str,
    table: str,
    *,
    keep_count: int | None = None,
    keep_days: int | None = None,
) -> list[int]:
    """Delete the table's finished backups beyond the newest `keep_count` or older than
    `keep_days` (the newest ok backup is always kept); the ids deleted."""
    found = [
        b
        for b in list_backups(rt, actor, connection, f"{schema}.{table}", limit=5000)
        if b.status in ("ok", "failed")
    ]
    newest_ok = next((b.id for b in found if b.status == "ok"), None)
    cutoff = datetime.now(UTC) - timedelta(days=keep_days) if keep_days else None
    doomed = [
        b.id
        for i, b in enumerate(found)
        if b.id != newest_ok
        and ((keep_count is not None and i >= keep_count) or (cutoff and b.created_at < cutoff))
    ]
    why = f"retention: keep {keep_count or '-'} backups, {keep_days or '-'} days"
    for backup_id in doomed:
        delete(rt, actor, backup_id, reason=why)
    return doomed


def prune(rt: Runtime, actor: Actor) -> int:
    """Delete the files of backups older than backup_retention_days (0 keeps them all)."""
    days = rt.settings.backup_retention_days
    if days <= 0 or not actor.at_least("dba"):
        return 0
    with rt.store.tx(actor.identity) as tx:
        expired = tx.all("backup_expired", {"days": days})
    for row in expired:
        if row["storage"] != storage.LOCAL and row["objects"]:
            # Another instance may have written it: its objects go from the shared bucket. An
            # instance without that storage leaves the row for one that has it.
            try:
                storage.for_entry(rt.settings, row["storage"]).delete(
                    [str(o["key"]) for o in row["objects"].values()]
                )
            except PetcareError:
                continue
        elif row["path"]:
            shutil.rmtree(files.store_dir(rt.settings) / row["path"], ignore_errors=True)
        with rt.store.tx(actor.identity) as tx:
            tx.execute("backup_mark_deleted", {"id": row["id"]})
    if expired:
        audit_event(
            rt,
            actor,
            "backup.prune",
            "ok",
            rows_affected=len(expired),
            detail={"ids": [r["id"] for r in expired], "retention_days": days},
        )
    return len(expired)
