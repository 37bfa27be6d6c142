"""Audit log files: CSV/JSONL export and the chain-head export to append-only storage.

The hash chain proves the log was not edited row by row, but someone with full control of the
database could rewrite every hash from some point on. The chain head (last chain_seq and its hash)
is therefore appended, every hour, to a file outside the database (`audit_head_dir`), on storage
the database operator cannot rewrite (another host, an object store with retention lock, or a
directory made append-only with `chattr +a`). `check_heads` later proves that every exported head
is still in the log with the same hash (reliability A5).
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.services import deferred, spreadsheet
from petcare_dba.services.actor import Actor
from petcare_dba.services.security import audit
from petcare_dba.settings import Settings

HEADS_FILE = "audit-chain-heads.jsonl"
# The export's columns are AuditEntry's fields in their order, less the storage id: the row's
# shape is declared once (the entry), not again here.
EXPORT_COLUMNS = tuple(f.name for f in fields(audit.AuditEntry) if f.name != "id")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    return str(value)


def rows(entries: Iterable[audit.AuditEntry]) -> list[dict[str, Any]]:
    """Entries as plain dicts with the export columns, oldest first."""
    out = []
    for e in sorted(entries, key=lambda x: x.chain_seq):
        data = asdict(e)
        out.append({c: _plain(data.get(c)) for c in EXPORT_COLUMNS})
    return out


def to_jsonl(entries: Iterable[audit.AuditEntry]) -> str:
    """One JSON object per line (the detail stays a JSON object)."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows(entries))


def _cell(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
    # Spreadsheet formula injection: one rule for every CSV (services/spreadsheet.py).
    return spreadsheet.cell(text)


def to_csv(entries: Iterable[audit.AuditEntry]) -> str:
    """CSV with a header row; cells that a spreadsheet would evaluate are quoted with '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in rows(entries):
        writer.writerow([_cell(r[c]) for c in EXPORT_COLUMNS])
    return buffer.getvalue()


def render(entries: Iterable[audit.AuditEntry], fmt: str) -> str:
    """CSV or JSONL text of entries."""
    if fmt == "csv":
        return to_csv(entries)
    if fmt == "jsonl":
        return to_jsonl(entries)
    raise ValidationError(say("msg.security.export_format", fmt=repr(fmt)))


@dataclass(frozen=True)
class ChainHead:
    """One exported chain head."""

    exported_at: str
    last_seq: int
    last_hash: str
    host: str


@dataclass(frozen=True)
class HeadCheck:
    ok: bool
    checked: int
    first_mismatch_seq: int | None
    reason: str | None


def heads_dir(settings: Settings) -> Path:
    """Where chain heads are appended (`audit_head_dir`, default <data_dir>/audit-heads)."""
    configured = settings.audit_head_dir
    return Path(configured) if configured else settings.data_path / "audit-heads"


def export_head(store: MetaStore, actor: Actor, directory: Path) -> ChainHead:
    """Append the current chain head to `<directory>/audit-chain-heads.jsonl` (admins).

    The file is opened O_APPEND and never rewritten, so it also works on a directory that the
    operating system makes append-only.
    """
    actor.require("admin", say("msg.access.exporting_audit_chain_head"))
    deferred.settle_all()  # the head covers the outcomes this process has already answered
    with store.tx(actor.identity) as tx:
        tip = tx.one("audit_chain_tip")
    assert tip is not None  # noqa: S101 - the function returns one row
    head = ChainHead(
        datetime.now(UTC).isoformat(),
        int(tip["last_seq"]),
        str(tip["last_hash"]),
        socket.gethostname(),
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / HEADS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(head), sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    audit.record(
        store,
        actor,
        "audit.export_head",
        "ok",
        detail={"last_seq": head.last_seq, "file": str(directory / HEADS_FILE)},
    )
    return head


def check_heads(store: MetaStore, actor: Actor, path: Path) -> HeadCheck:
    """Every exported head must still be in the log with the same hash (admins)."""
    actor.require("admin", say("msg.access.checking_exported_audit_chain"))
    if path.is_dir():
        path = path / HEADS_FILE
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    checked = 0
    with store.tx(actor.identity) as tx:
        for line in lines:
            head = json.loads(line)
            seq = int(head["last_seq"])
            if seq == 0:
                continue
            checked += 1
            stored = tx.value("audit_row_hash_at", {"seq": seq})
            if stored is None:
                return HeadCheck(False, checked, seq, "exported head is missing from the log")
            if stored != head["last_hash"]:
                return HeadCheck(False, checked, seq, "the log was rewritten after this head")
    return HeadCheck(True, checked, None, None)
