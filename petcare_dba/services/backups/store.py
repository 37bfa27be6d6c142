"""Making a table backup, the managed, audited feature (dba and admin users), and its format.

A backup is a directory in the backup store (setting `backup_dir`, default `<data_dir>/backups`):
`data.copy` (the rows as binary COPY, streamed, never held in memory; for a partitioned table one
`part-NNNN.copy` per leaf partition, all read in one snapshot), `table.sql` (the DDL from
`explorer_ddl`) and `manifest.json` (table, columns, members of the partition tree with their
bounds and per-file sha256, the structure a restore into a new table recreates, server version,
row count, byte size, sha256, who, when); the catalogue keeps columns, members and structure
too (migrations 0016, 0022), and a restore believes only the catalogue. It is written under
`<dir>.partial` and renamed only when complete, and its catalogue row (migration 0006) goes from
'running' to 'ok' or 'failed', so a full disk, a lost connection or a terminated backend leaves
a failed entry and no half-written backup. A restore loads the files into a new table (default)
or over the original (dba, confirmation naming the table) in one transaction, checks row counts
and checksums before COMMIT, and is recorded the same
way. Every backup, verify, preview, restore and prune is in the audit log, refusals included.
This module writes a backup; its catalogue row lives in `catalogue`, restoring in `restore`, and
pruning by age in `retention`.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import backup as db
from petcare_dba.db.target import backup_tree as tree
from petcare_dba.errors import (
    PetcareError,
    ValidationError,
)
from petcare_dba.messages import say
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import catalogue, files, storage
from petcare_dba.services.backups.catalogue import BackupEntry, Progress
from petcare_dba.services.backups.reconcile import heartbeat
from petcare_dba.services.backups.retention import prune
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

FORMAT = "petcare-table-backup/1"


def backup(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    schema: str,
    table: str,
    *,
    progress: Progress | None = None,
) -> BackupEntry:
    """Back up one table: DDL, binary COPY data and manifest, catalogued and audited."""
    label = f"{connection_name}:{schema}.{table}"
    refusing = say("msg.access.backing_up_table")
    catalogue.refuse_below(rt, actor, "backup.create", "dba", refusing, label)
    conn_info = connections.get(rt, actor, connection_name)
    bucket = storage.configured(rt.settings)  # a storage misconfiguration fails before any work
    detail = explorer.describe(rt, actor, connection_name, schema, table)
    if detail.kind not in ("table", "partitioned table", "materialized view"):
        raise ValidationError(
            say("msg.backups.only_tables", name=f"{schema}.{table}", kind=detail.kind)
        )
    columns = [
        db.Column(c["name"], c["type"], c["collation"])
        for c in detail.columns
        if not c["generated"]
    ]
    with rt.store.tx(actor.identity) as tx:
        row = tx.one(
            "backup_insert",
            {
                "connection_id": conn_info.id,
                "connection_name": connection_name,
                "schema": schema,
                "table": table,
                "user_id": actor.user_id,
                "username": actor.username,
            },
        )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING
    backup_id = int(row["id"])
    # One event id pairs the intent with its outcome (A2): without it the reconcile job would
    # mark every backup's intent 'unknown', finished or not (the fault matrix found this).
    event_id = audit.new_event_id()
    catalogue.audit_event(
        rt,
        actor,
        "backup.create",
        "intent",
        event_id=event_id,
        target=label,
        detail={"backup_id": backup_id},
    )
    rel = files.relative(backup_id, connection_name, schema, table)
    final = files.store_dir(rt.settings) / rel
    partial = files.partial_dir(rt.settings, backup_id, connection_name, schema, table)
    started = time.perf_counter()
    try:
        files.private_dirs(files.store_dir(rt.settings), partial)
        with (
            heartbeat(rt, actor, "backup", backup_id),
            connections.held(rt, actor, connection_name) as url,
        ):
            result = tree.copy_tree_out(
                url,
                target.application_name(actor.username, actor.session_id),
                schema,
                table,
                columns,
                partial,
                progress=progress,
                expected_bytes=int(detail.head["total_bytes"] or 0)
                - int(detail.head["index_bytes"] or 0),
                lock_timeout_ms=rt.settings.lock_timeout_ms or 5000,
                connect_timeout=rt.settings.connect_timeout_s,
            )
        recorded = _recorded(columns, result.columns)
        members = [m.as_dict() for m in result.members]
        structure = result.structure.as_dict()
        sha = files.tree_digest(members)
        manifest = {
            "format": FORMAT,
            "backup_id": backup_id,
            "connection": connection_name,
            "schema": schema,
            "table": table,
            "kind": detail.kind,
            "columns": recorded,
            "members": members,
            "structure": structure,
            "server_version_num": detail.server_version_num,
            "row_count": result.rows,
            "byte_size": result.bytes,
            "sha256": sha,
            "data_file": next((m["data_file"] for m in members if m["data_file"]), "none"),
            "ddl_file": "table.sql",
            "created_by": actor.username,
            "created_at": row["created_at"].isoformat(),
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        if len(text.encode("utf-8")) > files.MANIFEST_MAX_BYTES:
            # A restore reads at most this much (files read as untrusted input): refuse now
            # rather than keep a backup that could never be restored.
            raise ValidationError(
                say(
                    "msg.backups.manifest_too_big",
                    name=f"{schema}.{table}",
                    n=len(members),
                    limit=files.MANIFEST_MAX_BYTES,
                )
            )
        files.write_private(partial / "table.sql", detail.ddl)
        files.write_private(partial / "manifest.json", text)
        partial.rename(final)
        objects = None
        if bucket is not None:
            with heartbeat(rt, actor, "backup", backup_id):
                objects = storage.upload(bucket, final, str(rel))
            shutil.rmtree(final)
    except (PetcareError, OSError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if bucket is not None:
            shutil.rmtree(final, ignore_errors=True)
        error = catalogue.as_error(exc)
        catalogue.finish_row(rt, actor, backup_id, "failed", error=error.message)
        catalogue.audit_event(
            rt,
            actor,
            "backup.create",
            "error",
            event_id=event_id,
            target=label,
            sqlstate=error.sqlstate,
            detail={"backup_id": backup_id, "error": error.message},
        )
        raise error from exc
    version = f"{detail.server_version_num // 10000}.{detail.server_version_num % 10000}"
    catalogue.finish_row(
        rt,
        actor,
        backup_id,
        "ok",
        path=str(rel),
        server_version=version,
        rows=result.rows,
        size=result.bytes,
        sha=sha,
        columns=recorded,
        members=members,
        structure=structure,
        storage_label=bucket.label if bucket is not None else storage.LOCAL,
        objects=objects,
    )
    catalogue.audit_event(
        rt,
        actor,
        "backup.create",
        "ok",
        event_id=event_id,
        target=label,
        rows_affected=result.rows,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        detail={
            "backup_id": backup_id,
            "bytes": result.bytes,
            "sha256": sha,
            "members": len(members),
            "storage": bucket.label if bucket is not None else storage.LOCAL,
        },
    )
    prune(rt, actor)
    return catalogue.get(rt, actor, backup_id)


def _recorded(wanted: list[db.Column], defs: tuple[db.Column, ...]) -> list[dict[str, Any]]:
    """The catalogue's definitions of the backed-up columns (read in the COPY snapshot)."""
    by_name = {c.name: c for c in defs}
    missing = [c.name for c in wanted if c.name not in by_name]
    if missing:
        raise ValidationError(say("msg.backups.columns_changed", columns=str(missing)))
    return [
        {
            "name": c.name,
            "type": by_name[c.name].type,
            "collation": by_name[c.name].collation,
            "base": by_name[c.name].base,
            "typmod": by_name[c.name].typmod,
        }
        for c in wanted
    ]
