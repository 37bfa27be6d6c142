"""Verify, preview and restore of table backups (see `services.backups` for the store).

`verify` recomputes a backup file's sha256 and walks its binary COPY framing to count rows,
comparing both with the manifest and the catalogue (every member file of a partitioned backup).
`preview` has the server decode the first rows (of the first leaf, for a partitioned backup) in
a TEMP table inside a transaction that is always rolled back. `restore` loads a backup into a
new table (default `<table>_restored_<id>`; the whole tree and its structure, see `plan`) or
over the original — dba only, after a confirmation that names the table — in one transaction
that checks row counts and checksums before COMMIT; a failure leaves a failed restore row, an
audit entry naming the statements tried, and no table change. Restores go to the connection the
backup came from.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import backup as db
from petcare_dba.db.target import backup_tree as tree
from petcare_dba.errors import NeedsConfirmation, PetcareError, Refused, ValidationError
from petcare_dba.messages import recognised_in, say
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import database, files, storage
from petcare_dba.services.backups import plan as plan_
from petcare_dba.services.backups.catalogue import (
    BackupEntry,
    Progress,
    as_error,
    audit_event,
    files_for,
    get,
)
from petcare_dba.services.backups.reconcile import heartbeat
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

_IDENT = re.compile(r"^[^\x00]{1,63}$")


@dataclass(frozen=True)
class VerifyResult:
    backup_id: int
    ok: bool
    rows: int | None
    sha256: str | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class RestoreResult:
    restore_id: int
    backup_id: int
    mode: str
    table: str
    rows: int
    verified: bool
    elapsed_ms: float
    sequences: tuple[str, ...] = ()  # "sequence -> new value", moved up after a replace
    warnings: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # the partitions restored, schema.table
    recreated: tuple[str, ...] = ()  # constraints and indexes a restore --into recreated
    not_recreated: tuple[str, ...] = ()  # what it did not (foreign keys, ...), with why


def verify(rt: Runtime, actor: Actor, backup_id: int) -> VerifyResult:
    """Recompute the data file's sha256 and row count and compare with manifest and catalogue."""
    entry = get(rt, actor, backup_id)
    rows: int | None
    sha: str | None
    if entry.kind == "database":
        _, problems = database.verify_database(rt, actor, entry)
        rows, sha = entry.row_count, entry.sha256 if not problems else None
    else:
        problems, rows, sha = _verify_table(rt, entry)
    ok = not problems
    with rt.store.tx(actor.identity) as tx:
        tx.execute("backup_verified", {"id": backup_id, "ok": ok})
    audit_event(
        rt,
        actor,
        "backup.verify",
        "ok" if ok else "error",
        target=entry.table,
        rows_affected=rows,
        detail={"backup_id": backup_id, "problems": problems},
    )
    return VerifyResult(backup_id, ok, rows, sha, tuple(problems))


def _verify_table(rt: Runtime, entry: BackupEntry) -> tuple[list[str], int | None, str | None]:
    """A table backup's problems, rows and (when good) sha256."""
    try:
        # The same checks a restore makes (folder, manifest against the catalogue), so verify
        # and restore never disagree about a backup.
        found = files_for(rt, entry, data=False)
        try:
            bad, rows = files.problems(entry.id, found, entry.row_count, entry.sha256)
        finally:
            storage.release(rt.settings, found.folder)
    except PetcareError as exc:
        return [exc.message], None, None
    return bad, rows, entry.sha256 if not bad else None


def _checked(rt: Runtime, actor: Actor, entry: BackupEntry, action: str) -> files.BackupFiles:
    """The backup's files after every check against the catalogue; a refusal is audited."""
    try:
        return files_for(rt, entry)
    except PetcareError as exc:
        audit_event(
            rt,
            actor,
            action,
            "refused",
            target=entry.table,
            detail={"backup_id": entry.id, "reason": exc.message},
        )
        raise


def preview(
    rt: Runtime, actor: Actor, backup_id: int, limit: int = 20
) -> tuple[tuple[str, ...], list[tuple[str | None, ...]]]:
    """Column names and the first rows of a backup (decoded by the server, rolled back)."""
    entry = get(rt, actor, backup_id)
    found = _checked(rt, actor, entry, "backup.preview")
    try:
        columns = found.columns
        if found.data is None:
            return tuple(c.name for c in columns), []
        try:
            with connections.held(rt, actor, entry.connection_name) as url:
                rows = db.preview(
                    url,
                    target.application_name(actor.username, actor.session_id),
                    columns,
                    found.data,
                    limit,
                )
        except PetcareError as exc:
            audit_event(
                rt,
                actor,
                "backup.preview",
                "refused" if isinstance(exc, ValidationError) else "error",
                target=entry.table,
                detail={"backup_id": backup_id, "reason": exc.message},
            )
            raise
        audit_event(
            rt,
            actor,
            "backup.preview",
            "ok",
            target=entry.table,
            rows_affected=len(rows),
            detail={"backup_id": backup_id},
        )
        return tuple(c.name for c in columns), rows
    finally:
        storage.release(rt.settings, found.folder)


def default_restore_name(entry: BackupEntry) -> str:
    """`<table>_restored_<id>` (cut to PostgreSQL's 63-byte identifiers)."""
    suffix = f"_restored_{entry.id}"
    return entry.table_name[: 63 - len(suffix)] + suffix


def restore(
    rt: Runtime,
    actor: Actor,
    backup_id: int,
    *,
    into: str | None = None,
    replace: bool = False,
    confirm: str | None = None,
    verify_checksum: bool = True,
    with_indexes: bool = False,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore into a new table (default) or over the original (dba + confirmation).

    Into a new table: the whole tree (partitions renamed, see `names`), NOT NULL, defaults,
    identity, serial sequences of its own, primary key, unique, exclusion and check constraints,
    and with `with_indexes` the other indexes; foreign keys are not recreated (reported in
    `not_recreated`). Over the original: its rows only, the tree checked against the backup.
    """
    entry = get(rt, actor, backup_id)
    if entry.kind == "database":
        raise ValidationError(say("msg.backups.whole_database", id=str(backup_id)))
    if replace and into:
        raise ValidationError(say("msg.backups.name_or_replace"))
    schema, table = (
        (entry.schema_name, entry.table_name)
        if replace
        else plan_.target_name(into or default_restore_name(entry), entry.schema_name)
    )
    label = f"{entry.connection_name}:{schema}.{table}"
    if not _IDENT.match(table) or not _IDENT.match(schema) or len(table.encode()) > 63:
        raise ValidationError(say("msg.backups.bad_table_name", name=f"{schema}.{table}"))
    if connections.get(rt, actor, entry.connection_name).read_only:
        audit_event(
            rt, actor, "backup.restore", "refused", target=label, detail={"reason": "read-only"}
        )
        raise Refused(say("msg.backups.read_only", name=entry.connection_name))
    if replace and confirm != entry.table:
        audit_event(
            rt,
            actor,
            "backup.restore",
            "confirm",
            target=label,
            detail={"backup_id": backup_id, "mode": "replace"},
        )
        raise NeedsConfirmation(
            say("msg.backups.replace_confirm", table=entry.table),
            objects=(entry.table,),
            reason="destructive",
            hint=say("msg.backups.replace_confirm.hint", table=entry.table),
        )
    found = _checked(rt, actor, entry, "backup.restore")
    try:
        mode = "replace" if replace else "new"
        with rt.store.tx(actor.identity) as tx:
            restore_id = int(
                tx.value(
                    "restore_insert",
                    {
                        "backup_id": backup_id,
                        "mode": mode,
                        "schema": schema,
                        "table": table,
                        "user_id": actor.user_id,
                        "username": actor.username,
                    },
                )
            )
        event_id = audit.new_event_id()  # pairs the intent with its outcome (A2)
        audit_event(
            rt,
            actor,
            "backup.restore",
            "intent",
            event_id=event_id,
            target=label,
            detail={"backup_id": backup_id, "restore_id": restore_id, "mode": mode},
        )
        started = time.perf_counter()
        statements: list[str] = []
        plan = plan_.plan(entry, found, schema, table, replace, with_indexes)
        try:
            with (
                heartbeat(rt, actor, "restore", restore_id),
                connections.held(rt, actor, entry.connection_name) as url,
            ):
                loaded = tree.restore_tree(
                    url,
                    target.application_name(actor.username, actor.session_id),
                    plan.placed,
                    found.columns,
                    replace_rows=replace,
                    structure=plan.structure,
                    names=plan.names,
                    with_indexes=with_indexes,
                    verify=verify_checksum,
                    progress=progress,
                    lock_timeout_ms=rt.settings.lock_timeout_ms or 5000,
                    connect_timeout=rt.settings.connect_timeout_s,
                    statements=statements,
                )
        except (PetcareError, OSError) as exc:
            error = as_error(exc)
            with rt.store.tx(actor.identity) as tx:
                tx.execute(
                    "restore_finish",
                    {
                        "id": restore_id,
                        "status": "failed",
                        "row_count": None,
                        "verified": False,
                        "error": error.message,
                    },
                )
            audit_event(
                rt,
                actor,
                "backup.restore",
                "error",
                event_id=event_id,
                target=label,
                sql_text=";\n".join(statements) or None,
                sqlstate=error.sqlstate,
                detail={
                    "backup_id": backup_id,
                    "restore_id": restore_id,
                    "mode": mode,
                    "members": list(plan.members),
                    "error": error.message,
                },
            )
            raise error from exc
        rows = loaded.rows
        with rt.store.tx(actor.identity) as tx:
            tx.execute(
                "restore_finish",
                {
                    "id": restore_id,
                    "status": "ok",
                    "row_count": rows,
                    "verified": verify_checksum,
                    "error": None,
                },
            )
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        audit_event(
            rt,
            actor,
            "backup.restore",
            "ok",
            event_id=event_id,
            target=label,
            sql_text=";\n".join(statements),
            rows_affected=rows,
            duration_ms=elapsed,
            detail={
                "backup_id": backup_id,
                "restore_id": restore_id,
                "mode": mode,
                "sequences": list(loaded.sequences),
                "warnings": list(loaded.warnings),
                "members": list(plan.members),
                "recreated": list(plan.recreated),
                "not_recreated": list(plan.not_recreated),
            },
        )
        explorer.invalidate(rt, connections.get(rt, actor, entry.connection_name).id)
        return RestoreResult(
            restore_id,
            backup_id,
            mode,
            f"{schema}.{table}",
            rows,
            verify_checksum,
            elapsed,
            loaded.sequences,
            loaded.warnings,
            plan.members,
            plan.recreated,
            plan.not_recreated,
        )
    finally:
        storage.release(rt.settings, found.folder)


def restores(rt: Runtime, actor: Actor, backup_id: int) -> list[dict[str, Any]]:
    """Restores of one backup, newest first."""
    actor.require("dba", say("msg.access.reading_backup_catalogue"))
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("restore_list", {"backup_id": backup_id})
    return [{**r, "error": recognised_in(r["error"])} for r in rows]
