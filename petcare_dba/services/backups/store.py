"""Table backup and restore as a managed, audited feature (dba and admin users).

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
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import backup as db
from petcare_dba.db.target import backup_tree as tree
from petcare_dba.errors import (
    NotFound,
    PetcareError,
    Unavailable,
    ValidationError,
)
from petcare_dba.messages import recognised_in, say
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files, storage
from petcare_dba.services.backups.reconcile import heartbeat
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

FORMAT = "petcare-table-backup/1"
Progress = Callable[[int, int], None]
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_IDENT = re.compile(r"^[^\x00]{1,63}$")


@dataclass(frozen=True)
class BackupEntry:
    """One backup in the catalogue."""

    id: int
    connection_name: str
    schema_name: str
    table_name: str
    status: str
    path: str | None
    server_version: str | None
    row_count: int | None
    byte_size: int | None
    sha256: str | None
    error: str | None
    created_by_name: str
    created_at: datetime
    finished_at: datetime | None
    verified_at: datetime | None
    verify_ok: bool | None
    columns: list[dict[str, Any]] | None = None  # column definitions catalogued at backup time
    members: list[dict[str, Any]] | None = None  # the partition tree (0022); None: older backups
    structure: dict[str, Any] | None = None  # NOT NULL, defaults, constraints, indexes (0022)
    storage: str = "local"  # where its files are: local or s3://<bucket> (0028)
    objects: dict[str, Any] | None = None  # {file: {key, bytes, sha256}} in object storage
    kind: str = "table"  # or "database": a pg_dump archive; table_name is the database (0028)

    @property
    def table(self) -> str:
        if self.kind == "database":
            return f"database {self.table_name}"
        return f"{self.schema_name}.{self.table_name}"

    @property
    def partitioned(self) -> bool:
        return bool(self.members and self.members[0].get("partitioned"))


def _entry(row: dict[str, Any]) -> BackupEntry:
    # The error is kept as English; read back as the message it was, the UI says it translated.
    return BackupEntry(**{**row, "error": recognised_in(row["error"])})


def get(rt: Runtime, actor: Actor, backup_id: int) -> BackupEntry:
    """One backup of the catalogue (dba)."""
    actor.require("dba", say("msg.access.reading_backup_catalogue"))
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("backup_get", {"id": backup_id})
    if row is None:
        raise NotFound(say("msg.backups.not_found", id=str(backup_id)))
    return _entry(row)


def list_backups(
    rt: Runtime,
    actor: Actor,
    connection: str | None = None,
    table: str | None = None,
    *,
    include_deleted: bool = False,
    limit: int = 500,
) -> list[BackupEntry]:
    """Backups, newest first, of a connection and/or table ('schema.table' or 'table')."""
    actor.require("dba", say("msg.access.reading_backup_catalogue"))
    schema, name = explorer.split_name(table) if table else (None, None)
    if table and "." not in table:
        schema = None
    params = {
        "connection": connection,
        "schema": schema,
        "table": name,
        "include_deleted": include_deleted,
        "limit": limit,
    }
    with rt.store.tx(actor.identity) as tx:
        return [_entry(r) for r in tx.all("backup_list", params)]


def audit_event(rt: Runtime, actor: Actor, action: str, outcome: str, **kw: Any) -> None:
    audit.record(rt.store, actor, action, outcome, **kw)


def refuse_below(
    rt: Runtime, actor: Actor, action: str, role: str, what: str, target_: str
) -> None:
    if not actor.at_least(role):
        audit_event(
            rt, actor, action, "refused", target=target_, detail={"reason": f"needs {role}"}
        )
        actor.require(role, what)


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
    refuse_below(rt, actor, "backup.create", "dba", say("msg.access.backing_up_table"), label)
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
    audit_event(
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
        error = as_error(exc)
        finish_row(rt, actor, backup_id, "failed", error=error.message)
        audit_event(
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
    finish_row(
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
    audit_event(
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
    return get(rt, actor, backup_id)


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


def as_error(exc: BaseException) -> PetcareError:
    if isinstance(exc, PetcareError):
        return exc
    if isinstance(exc, OSError):
        return Unavailable(
            say("msg.backups.store_write", problem=str(exc.strerror or exc)),
            hint=say("msg.backups.store_write.hint"),
        )
    return PetcareError(str(exc))


def finish_row(
    rt: Runtime,
    actor: Actor,
    backup_id: int,
    status: str,
    *,
    path: str | None = None,
    server_version: str | None = None,
    rows: int | None = None,
    size: int | None = None,
    sha: str | None = None,
    error: str | None = None,
    columns: list[dict[str, Any]] | None = None,
    members: list[dict[str, Any]] | None = None,
    structure: dict[str, Any] | None = None,
    storage_label: str = "local",
    objects: dict[str, Any] | None = None,
) -> None:
    with rt.store.tx(actor.identity) as tx:
        tx.execute(
            "backup_finish",
            {
                "id": backup_id,
                "status": status,
                "path": path,
                "server_version": server_version,
                "row_count": rows,
                "byte_size": size,
                "sha256": sha,
                "error": error,
                "columns": json.dumps(columns) if columns is not None else None,
                "members": json.dumps(members) if members is not None else None,
                "structure": json.dumps(structure) if structure is not None else None,
                "storage": storage_label,
                "objects": json.dumps(objects) if objects is not None else None,
            },
        )


def files_for(rt: Runtime, entry: BackupEntry, *, data: bool = True) -> files.BackupFiles:
    """The backup's files checked against the catalogue (and, with `data`, the data file too)."""
    if entry.status != "ok" or not entry.path:
        raise ValidationError(say("msg.backups.unusable", id=str(entry.id), status=entry.status))
    root, relative = files.store_dir(rt.settings), entry.path
    try:
        if entry.storage != storage.LOCAL:
            # Streamed back into a private folder (checked against the catalogue's sizes and
            # sha256 on the way); the caller releases it when done.
            root, relative = storage.fetch(
                rt.settings, entry.id, entry.storage, entry.path, entry.objects or {}
            )
        try:
            found = files.load(
                root,
                entry.id,
                relative,
                entry.columns,
                entry.row_count,
                entry.sha256,
                entry.members,
                entry.structure,
            )
            if data:
                files.check_data(entry.id, found, entry.row_count, entry.sha256)
        except BaseException:
            storage.release(rt.settings, root / relative)
            raise
    except OSError as exc:
        raise NotFound(say("msg.backups.files_missing", id=str(entry.id))) from exc
    return found


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
