"""Writing to and reading from the append-only audit log.

`record()` appends one event in its own transaction (so it survives a failed action) and redacts
secrets in SQL text first (`PASSWORD '...'`, conninfo). The hash chain, append-only guarantees,
the canonical form each row is hashed in (its `hash_version`) and verification live in PostgreSQL
(migrations 0003 and 0020); `row_for` is the only Python builder of a row. It also
searches the log, reconciles orphaned intents (reliability A2) and derives security events
(failed-login bursts, lockouts, refused-statement bursts, chain breaks) that the Audit page shows
and the alerting of the monitoring issue can consume. File formats (CSV/JSONL export, chain-head
export to append-only storage) are in `audit_export.py`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from petcare_dba.db.metastore import Identity, MetaStore, Tx
from petcare_dba.errors import PetcareError, Unavailable, redact
from petcare_dba.messages import say
from petcare_dba.services import deferred, intake
from petcare_dba.services.actor import Actor


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One audit row as listed on the Audit page and by `petcare-dba audit list`.

    Fields after `id` are in export order: `audit_export` writes them as its columns.
    """

    id: int
    chain_seq: int
    at: datetime
    username: str | None
    app_role: str | None
    session_id: str | None = None
    client_addr: str | None = None
    action: str
    outcome: str
    event_id: uuid.UUID | None = None
    connection_id: int | None = None
    target: str | None
    classification: str | None
    sqlstate: str | None
    rows_affected: int | None
    duration_ms: float | None
    ai_initiated: bool
    sql_text: str | None
    sql_hash: str | None = None
    detail: dict[str, Any]
    hash_version: int | None = None
    prev_hash: str | None = None
    row_hash: str | None = None


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


# Forms the db/ redactor leaves alone: E'...' and U&'...' string constants after PASSWORD.
_EXTRA_SECRETS = re.compile(r"(PASSWORD\s+)(?:E|U&)'(?:[^'\\]|''|\\.)*'", re.IGNORECASE)
_SECRET_KEYS = {"password", "passwd", "secret", "token", "conninfo", "dsn", "api_key"}
_SECRET_SUFFIXES = ("password", "_secret", "_token", "_api_key")


def redact_text(text: str) -> str:
    """Remove passwords from SQL, conninfo strings and URLs before they are stored (A7)."""
    return redact(_EXTRA_SECRETS.sub(r"\1'***'", text))


def _clean(value: Any, key: str = "") -> Any:
    """Redact secrets in every string of a detail value, nested ones included (A7, C5)."""
    lowered = key.lower()
    if (lowered in _SECRET_KEYS or lowered.endswith(_SECRET_SUFFIXES)) and value not in (None, ""):
        return "***"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def submitted_view(text: str, prefix_bytes: int = intake.DEFAULT_PREFIX_BYTES) -> intake.AuditView:
    """What a row keeps of a submitted text: a redacted, bounded prefix and the whole hash.

    The hash covers the whole text as submitted (comments, every statement, bytes after a NUL);
    only when redaction removed a secret is it the hash of the whole redacted text, since a hash
    of text that held a secret could be brute-forced.
    """
    clean = redact_text(text)
    view = intake.audit_view(clean, prefix_bytes)
    return view if clean != text else replace(view, sha256=intake.sha256(text))


def row_for(
    actor: Actor | None,
    action: str,
    outcome: str,
    *,
    username: str | None = None,
    event_id: uuid.UUID | None = None,
    connection_id: int | None = None,
    target: str | None = None,
    sql_text: str | None = None,
    submitted: intake.AuditView | None = None,
    classification: str | None = None,
    sqlstate: str | None = None,
    rows_affected: int | None = None,
    duration_ms: float | None = None,
    ai_initiated: bool = False,
    client_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """One redacted audit row as a JSON object keyed by audit_log column.

    The only Python builder of a row: `record_in` (named query `audit_insert`) and the engine
    (petcare.engine_begin/engine_finish) both hand it to petcare.audit_append. It names what
    the caller proposes, not what is hashed: the chain trigger fills chain_seq, prev_hash,
    hash_version and row_hash, and the hashed fields are named once, in
    petcare.audit_canonical_v2 (migration 0020). A key that is not a column would be dropped
    silently by jsonb_populate_record, so a test holds these keys to the table's columns.

    `sql_text` is bounded here (`submitted_view`); a caller that writes many rows for one text
    passes the view it computed once as `submitted` instead. username, app_role and (for a
    signed-in session) client_addr are only proposals: the database binds them (audit_bind).
    """
    if outcome == "intent" and event_id is None:
        # An intent without an event id can never be paired with its outcome: the reconcile
        # job would mark it 'unknown' even when the action finished (A2).
        raise ValueError(f"audit intent of {action!r} without an event_id")
    view = (
        submitted
        if submitted is not None
        else (submitted_view(sql_text) if sql_text is not None else None)
    )
    extra = {"sql_bytes": view.size, "sql_truncated": True} if view and view.truncated else {}
    row = {
        "user_id": actor.user_id if actor else None,
        "username": actor.username if actor else username,
        "app_role": actor.role if actor else None,
        "session_id": actor.session_id if actor else None,
        "client_addr": client_addr or (actor.client_addr if actor else None),
        "action": action,
        "event_id": event_id,
        "connection_id": connection_id,
        "target": redact_text(target) if target else target,
        "sql_text": view.prefix if view else None,
        "sql_hash": view.sha256 if view and view.size else None,
        "classification": classification,
        "outcome": outcome,
        "sqlstate": sqlstate,
        "rows_affected": rows_affected,
        "duration_ms": duration_ms,
        "ai_initiated": ai_initiated,
        "detail": {**_clean(detail or {}), **extra},
    }
    return json.dumps(row, default=str)


def record_in(tx: Tx, actor: Actor | None, action: str, outcome: str, **fields: Any) -> None:
    """Append one audit event inside the caller's transaction (it commits or fails with it).

    Callers that need the event on its own call `record`; the engine's hot path appends
    through petcare.engine_begin/engine_finish with `row_for` instead.
    """
    tx.execute("audit_insert", {"row": row_for(actor, action, outcome, **fields)})


def record(
    store: MetaStore,
    actor: Actor | None,
    action: str,
    outcome: str,
    **fields: Any,
) -> None:
    """Append one audit event; raises Unavailable when it cannot be written (fail closed).

    Keyword fields are those of `row_for` (event_id, connection_id, target, sql_text, ...).
    """
    identity = actor.identity if actor else Identity(None, "anonymous")
    try:
        # One statement: one round trip (`call`), not a transaction's four (issue 19: a sign-in
        # records one). Written, or an error: the implicit transaction commits or fails with it.
        row = row_for(actor, action, outcome, **fields)
        store.call(identity, "audit_insert", {"row": row})
    except PetcareError as exc:
        raise Unavailable(
            say("msg.security.audit_down", message=exc.message),
            hint=say("msg.security.audit_down.hint"),
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
    """Newest audit rows the actor may see (own rows; admins every row).

    Outcomes this process still has queued (the engine writes them after the response) are
    written first, so a reader sees its own statements' outcomes.
    """
    deferred.settle_all()
    with store.tx(actor.identity) as tx:
        rows = tx.all(
            "audit_recent",
            {"limit": limit, "action": action, "outcome": outcome, "username": username},
        )
    return [entry(r) for r in rows]


def entry(row: dict[str, Any]) -> AuditEntry:
    """An AuditEntry from a query row."""
    duration = row.get("duration_ms")
    return AuditEntry(**{**row, "duration_ms": float(duration) if duration is not None else None})


def verify(store: MetaStore, actor: Actor) -> ChainStatus:
    """Walk the hash chain (admins)."""
    deferred.settle_all()
    with store.tx(actor.identity) as tx:
        row = tx.one("audit_verify")
    assert row is not None  # noqa: S101 - function returns one row
    return ChainStatus(bool(row["ok"]), int(row["checked"]), row["first_broken_seq"], row["reason"])


def search(
    store: MetaStore,
    actor: Actor,
    *,
    username: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    connection: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """Audit rows the actor may see (own rows; admins every row), newest first.

    `action` matches exactly or as a prefix of dotted actions (`user` matches `user.create`).
    Like `recent`, it first writes this process's queued outcomes (read your own writes).
    """
    deferred.settle_all()
    with store.tx(actor.identity) as tx:
        rows = tx.all(
            "audit_search",
            {
                "username": username or None,
                "action": action or None,
                "outcome": outcome or None,
                "connection": connection or None,
                "since": since,
                "until": until,
                "limit": max(1, min(int(limit), 100_000)),
            },
        )
    return [entry(r) for r in rows]


def event_rows(store: MetaStore, actor: Actor, event_id: uuid.UUID) -> list[AuditEntry]:
    """The rows of one event (intent, confirmation, outcome) the actor may see."""
    deferred.settle_all()
    with store.tx(actor.identity) as tx:
        return [entry(r) for r in tx.all("audit_event_rows", {"event_id": event_id})]


def facets(store: MetaStore, actor: Actor) -> dict[str, list[str]]:
    """Distinct users, actions and connections in the visible log (for filter pickers)."""
    out: dict[str, list[str]] = {"user": [], "action": [], "connection": []}
    with store.tx(actor.identity) as tx:
        for row in tx.all("audit_facets"):
            out[row["facet"]].append(row["value"])
    return out


def reconcile(
    store: MetaStore,
    actor: Actor,
    older_than_minutes: int = 5,
    *,
    within_minutes: int | None = None,
) -> int:
    """Mark intents without an outcome older than N minutes as 'unknown' (A2); admins.

    `within_minutes` limits the scan to intents at most that much older than N minutes (the
    in-app job, every minute); None scans the whole log (the CLI).
    """
    actor.require("admin", say("msg.access.reconciling_audit_log"))
    params = {"minutes": int(older_than_minutes), "within": within_minutes}
    with store.tx(actor.identity) as tx:
        count = int(tx.value("audit_reconcile", params) or 0)
    if count:
        record(store, actor, "audit.reconcile", "ok", detail={"marked_unknown": count})
    return count


@dataclass(frozen=True)
class SecurityEvent:
    """Something an operator should look at: a burst, a lockout or a broken audit chain."""

    # failed_logins | failed_logins_from_address | lockout | refused_statements |
    # refusals_suppressed (beyond audit_refusals_per_minute, counted only) | chain_break
    kind: str
    subject: str
    count: int
    first_at: datetime | None
    last_at: datetime | None
    detail: str = ""


# Bursts worth an alert within the window; a lockout or a chain break always is.
BURST_THRESHOLDS = {
    "failed_logins": 5,
    "failed_logins_from_address": 10,
    "lockout": 1,
    "refused_statements": 5,
}


def security_events(
    store: MetaStore,
    actor: Actor,
    since: datetime | timedelta,
    *,
    verify_chain: bool = True,
    thresholds: dict[str, int] | None = None,
) -> list[SecurityEvent]:
    """Security events since a time (or within a timedelta back from now).

    Computed from the rows the actor may see, so an admin sees everyone's events and a user
    only their own; the chain check runs for admins only (it walks the whole log).
    """
    limits = {**BURST_THRESHOLDS, **(thresholds or {})}
    if isinstance(since, timedelta):
        since = datetime.now(UTC) - since
    deferred.settle_all()
    with store.tx(actor.identity) as tx:
        rows = tx.all("audit_security_counts", {"since": since})
    events = [
        SecurityEvent(r["kind"], r["subject"], int(r["n"]), r["first_at"], r["last_at"])
        for r in rows
        if int(r["n"]) >= limits.get(r["kind"], 1)
    ]
    if verify_chain and actor.at_least("admin"):
        status = verify(store, actor)
        if not status.ok:
            events.insert(
                0,
                SecurityEvent(
                    "chain_break",
                    f"chain_seq {status.first_broken_seq}",
                    1,
                    None,
                    None,
                    status.reason or "",
                ),
            )
    return events
