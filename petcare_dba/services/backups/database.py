"""Whole-database backups beside the table backups: `pg_dump --format=custom`, same catalogue.

A DBA's first question is "is my whole database backed up?". `backup_database` runs the
pg_dump client of the server's major version (`db.target.dump`) on the connection's database,
streams its archive into `<store>/<connection>/<id>-database-<db>.partial/database.dump` with a
sha256 computed on the way, renames it into place and, with `backup_storage = s3`, streams it to
the bucket like any backup. The catalogue row (kind 'database', migration 0028) goes 'running'
-> 'ok' / 'failed'. `verify_database` checks the stored archive's sha256 and that `pg_restore
--list` reads it; `restore_database` creates a NEW database on the connection's server and
pg_restores into it (never over the source, never into an existing database). Every step is in
the audit log, refusals included; progress is tables done / total.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

from petcare_dba.db import target
from petcare_dba.db.target import dump
from petcare_dba.errors import PetcareError, Refused, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files, storage
from petcare_dba.services.backups.catalogue import (
    BackupEntry,
    Progress,
    as_error,
    audit_event,
    finish_row,
    get,
    refuse_below,
)
from petcare_dba.services.backups.reconcile import heartbeat
from petcare_dba.services.backups.retention import prune
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

ARCHIVE = "database.dump"
# A new database's name: plain, so it can never read as a conninfo string in pg_restore's argv.
_DBNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def backup_database(
    rt: Runtime, actor: Actor, connection_name: str, *, progress: Progress | None = None
) -> BackupEntry:
    """pg_dump the connection's whole database into the backup store, catalogued and audited."""
    label = f"{connection_name}:database"
    refuse_below(rt, actor, "backup.database", "dba", say("msg.access.backing_up_database"), label)
    conn_info = connections.get(rt, actor, connection_name)
    bucket = storage.configured(rt.settings)
    app = target.application_name(actor.username, actor.session_id)
    with connections.held(rt, actor, connection_name) as url:
        version, database, _ = dump.server_info(url, app)
        dump.client("pg_dump", version // 10000)  # refused before any row or file exists
    with rt.store.tx(actor.identity) as tx:
        row = tx.one(
            "backup_insert_database",
            {
                "connection_id": conn_info.id,
                "connection_name": connection_name,
                "database": database,
                "user_id": actor.user_id,
                "username": actor.username,
            },
        )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING
    backup_id = int(row["id"])
    label = f"{connection_name}:{database}"
    event_id = audit.new_event_id()  # pairs the intent with its outcome (A2)
    audit_event(
        rt,
        actor,
        "backup.database",
        "intent",
        event_id=event_id,
        target=label,
        detail={"backup_id": backup_id},
    )
    rel = files.relative(backup_id, connection_name, "database", database)
    final = files.store_dir(rt.settings) / rel
    partial = final.with_name(final.name + ".partial")
    started = time.perf_counter()
    try:
        files.private_dirs(files.store_dir(rt.settings), partial)
        with heartbeat(rt, actor, "backup", backup_id):
            with connections.held(rt, actor, connection_name) as url:
                result = dump.dump(url, app, partial / ARCHIVE, progress)
            partial.rename(final)
            objects = None
            if bucket is not None:
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
            "backup.database",
            "error",
            event_id=event_id,
            target=label,
            detail={"backup_id": backup_id, "error": error.message},
        )
        raise error from exc
    where = bucket.label if bucket is not None else storage.LOCAL
    finish_row(
        rt,
        actor,
        backup_id,
        "ok",
        path=str(rel),
        server_version=f"{version // 10000}.{version % 10000}",
        rows=result.tables,  # a database backup counts tables, not rows
        size=result.bytes,
        sha=result.sha256,
        storage_label=where,
        objects=objects,
    )
    audit_event(
        rt,
        actor,
        "backup.database",
        "ok",
        event_id=event_id,
        target=label,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        detail={
            "backup_id": backup_id,
            "bytes": result.bytes,
            "sha256": result.sha256,
            "tables": result.tables,
            "storage": where,
        },
    )
    prune(rt, actor)
    return get(rt, actor, backup_id)


def _archive(rt: Runtime, entry: BackupEntry) -> Path:
    """The archive, checked against the catalogue's sha256 (streamed back from S3 if there)."""
    if entry.status != "ok" or not entry.path:
        raise ValidationError(say("msg.backups.unusable", id=str(entry.id), status=entry.status))
    if entry.storage != storage.LOCAL:
        root, rel = storage.fetch(
            rt.settings, entry.id, entry.storage, entry.path, entry.objects or {}
        )
        return root / rel / ARCHIVE
    folder = files.folder_of(files.store_dir(rt.settings), entry.id, entry.path)
    path = folder / ARCHIVE
    sha = hashlib.sha256()
    with files.db.open_plain(path) as f:
        while chunk := f.read(dump.CHUNK):
            sha.update(chunk)
    if sha.hexdigest() != entry.sha256:
        raise files.Tampered(
            f"backup {entry.id} is refused: its archive fails its checksum (sha256 mismatch)",
            hint="the archive was altered on disk; take a new backup",
        )
    return path


def _major(entry: BackupEntry) -> int:
    return int(str(entry.server_version or "0").split(".")[0])


def verify_database(rt: Runtime, actor: Actor, entry: BackupEntry) -> tuple[bool, list[str]]:
    """The archive's sha256 and `pg_restore --list` (the client of the dump's major version)."""
    problems: list[str] = []
    path = None
    try:
        path = _archive(rt, entry)
        tables = dump.archive_tables(path, _major(entry))
        if tables != entry.row_count:
            problems.append(
                f"the archive holds {tables} tables' data, catalogued {entry.row_count}"
            )
    except PetcareError as exc:
        problems.append(exc.message)
    except OSError as exc:
        problems.append(f"the backup's archive is missing or unreadable ({exc.strerror})")
    finally:
        if path is not None:
            storage.release(rt.settings, path.parent)
    return not problems, problems


def restore_database(
    rt: Runtime,
    actor: Actor,
    backup_id: int,
    into_database: str,
    *,
    progress: Progress | None = None,
) -> str:
    """pg_restore a database backup into a NEW database on the connection's server; its name."""
    entry = get(rt, actor, backup_id)
    label = f"{entry.connection_name}:{into_database}"
    refuse_below(
        rt, actor, "backup.restore_database", "dba", say("msg.access.restoring_database"), label
    )
    if entry.kind != "database":
        raise ValidationError(say("msg.backups.table_backup", id=str(backup_id)))
    if not _DBNAME.match(into_database):
        raise ValidationError(say("msg.backups.bad_database_name", name=repr(into_database)))
    if into_database == entry.table_name:
        audit_event(
            rt, actor, "backup.restore_database", "refused", target=label,
            detail={"backup_id": backup_id, "reason": "the source database"},
        )  # fmt: skip
        raise Refused(say("msg.backups.over_source"))
    if connections.get(rt, actor, entry.connection_name).read_only:
        raise Refused(say("msg.backups.read_only", name=entry.connection_name))
    event_id = audit.new_event_id()  # pairs the intent with its outcome (A2)
    audit_event(
        rt, actor, "backup.restore_database", "intent", event_id=event_id, target=label,
        detail={"backup_id": backup_id},
    )  # fmt: skip
    app = target.application_name(actor.username, actor.session_id)
    started = time.perf_counter()
    path = None
    try:
        path = _archive(rt, entry)
        total = dump.archive_tables(path, _major(entry))
        with connections.held(rt, actor, entry.connection_name) as url:
            version = dump.server_info(url, app)[0]
            dump.client("pg_restore", version // 10000)
            dump.create_database(url, app, into_database)
            dump.restore(url, app, into_database, path, version // 10000, total, progress)
    except PetcareError as exc:
        audit_event(
            rt, actor, "backup.restore_database", "error", event_id=event_id, target=label,
            detail={"backup_id": backup_id, "error": exc.message},
        )  # fmt: skip
        raise
    finally:
        if path is not None:
            storage.release(rt.settings, path.parent)
    audit_event(
        rt, actor, "backup.restore_database", "ok", event_id=event_id, target=label,
        rows_affected=total,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        detail={"backup_id": backup_id, "tables": total},
    )  # fmt: skip
    return into_database
