"""Writing to and reading from the append-only audit log.

`record()` appends one event in its own transaction (so it survives a failed action) and redacts
secrets in SQL text first (`PASSWORD '...'`, conninfo). The hash chain, append-only guarantees and
verification live in PostgreSQL (migration 0003); this module is the only Python writer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.db.errors import redact
from petcare_dba.db.metastore import Identity, MetaStore
from petcare_dba.errors import PetcareError, Unavailable
from petcare_dba.services.actor import Actor


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as listed on the Audit page and by `petcare-dba audit list`."""

    id: int
    chain_seq: int
    at: datetime
    username: str | None
    app_role: str | None
    action: str
    outcome: str
    target: str | None
    classification: str | None
    sqlstate: str | None
    rows_affected: int | None
    duration_ms: float | None
    ai_initiated: bool
    sql_text: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


def record(
    store: MetaStore,
    actor: Actor | None,
    action: str,
    outcome: str,
    *,
    username: str | None = None,
    event_id: uuid.UUID | None = None,
    connection_id: int | None = None,
    target: str | None = None,
    sql_text: str | None = None,
    classification: str | None = None,
    sqlstate: str | None = None,
    rows_affected: int | None = None,
    duration_ms: float | None = None,
    ai_initiated: bool = False,
    client_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event; raises Unavailable when it cannot be written (fail closed)."""
    clean_sql = redact(sql_text) if sql_text is not None else None
    params = {
        "user_id": actor.user_id if actor else None,
        "username": actor.username if actor else username,
        "app_role": actor.role if actor else None,
        "session_id": actor.session_id if actor else None,
        "client_addr": client_addr or (actor.client_addr if actor else None),
        "action": action,
        "event_id": event_id,
        "connection_id": connection_id,
        "target": target,
        "sql_text": clean_sql,
        "sql_hash": hashlib.sha256(sql_text.encode()).hexdigest() if sql_text else None,
        "classification": classification,
        "outcome": outcome,
        "sqlstate": sqlstate,
        "rows_affected": rows_affected,
        "duration_ms": duration_ms,
        "ai_initiated": ai_initiated,
        "detail": json.dumps(
            {k: redact(v) if isinstance(v, str) else v for k, v in (detail or {}).items()},
            default=str,
        ),
    }
    identity = actor.identity if actor else Identity(None, "anonymous")
    try:
        with store.tx(identity) as tx:
            tx.execute("audit_insert", params)
    except PetcareError as exc:
        raise Unavailable(
            f"audit unavailable: {exc.message}",
            hint="nothing was run; retry when the metadata store is back",
        ) from exc


def recent(
    store: MetaStore,
    actor: Actor,
    *,
    limit: int = 200,
    action: str | None = None,
    outcome: str | None = None,
    username: str | None = None,
) -> list[AuditEntry]:
    """Newest audit rows the actor may see (own rows; admins every row)."""
    with store.tx(actor.identity) as tx:
        rows = tx.all(
            "audit_recent",
            {"limit": limit, "action": action, "outcome": outcome, "username": username},
        )
    return [
        AuditEntry(
            **{
                **r,
                "duration_ms": float(r["duration_ms"]) if r["duration_ms"] is not None else None,
            }
        )
        for r in rows
    ]


def verify(store: MetaStore, actor: Actor) -> ChainStatus:
    """Walk the hash chain (admins)."""
    with store.tx(actor.identity) as tx:
        row = tx.one("audit_verify")
    assert row is not None  # noqa: S101 - function returns one row
    return ChainStatus(bool(row["ok"]), int(row["checked"]), row["first_broken_seq"], row["reason"])
