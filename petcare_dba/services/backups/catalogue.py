"""The backup catalogue: a backup's row, read and finished, and its files checked against it.

`BackupEntry` is one row of the catalogue (migrations 0006, 0016, 0022, 0028); `get` and
`list_backups` read it, `finish_row` moves a row from 'running' to 'ok' or 'failed' with what
the backup found, and `files_for` opens a backup's files (local, or fetched from object storage)
checked against the row, since a restore believes only the catalogue. Beside it are the few
rules every backup action shares (table, database, restore, retention): the audit event, the
audited refusal below a role, an OSError said as the store's error, and the `Progress` callback.
It is apart from `store` (making a table backup) so that those actions read and finish rows
without importing one another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.errors import NotFound, PetcareError, Unavailable, ValidationError
from petcare_dba.messages import recognised_in, say
from petcare_dba.services import explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files, storage
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

Progress = Callable[[int, int], None]


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
