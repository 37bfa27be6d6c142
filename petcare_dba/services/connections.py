"""Stored target connections: register, list, test, remove, and decrypt for use.

The full conninfo is sealed with the keyring (AES-GCM envelope) bound to the connection's name,
only a password-free `display_url` is stored in clear, and no function here returns or logs the
password except `resolve_url`, which the engine calls to connect. Who may see or use a
connection is decided by row level security (owner, shared, granted, admin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from petcare_dba.db import target
from petcare_dba.errors import NotFound, PetcareError, ValidationError
from petcare_dba.services import audit
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Connection:
    id: int
    name: str
    display_url: str
    read_only: bool
    shared: bool
    ai_consent: str
    description: str
    owner: str | None
    created_at: datetime


@dataclass(frozen=True)
class ConnectionCheck:
    """Result of `connection test` / the dashboard header."""

    name: str
    ok: bool
    server_version: str | None = None
    database: str | None = None
    login_role: str | None = None
    database_bytes: int | None = None
    table_count: int | None = None
    sessions: int | None = None
    latency_ms: float | None = None
    error: str | None = None


def _purpose(name: str) -> str:
    return f"connection:{name}"


def add(
    rt: Runtime,
    actor: Actor,
    name: str,
    url: str,
    *,
    read_only: bool = False,
    shared: bool = False,
    description: str = "",
) -> int:
    """Register a connection (dba or admin); the URL is validated and sealed."""
    actor.require("dba", "adding connections")
    if not _NAME.match(name):
        raise ValidationError(f"connection name {name!r} must be lowercase letters, digits, - or _")
    shown = target.display_url(url)
    sealed = rt.keyring.seal(url, _purpose(name))
    try:
        with rt.store.tx(actor.identity) as tx:
            conn_id = int(
                tx.value(
                    "connection_insert",
                    {
                        "name": name,
                        "owner_id": actor.user_id,
                        "display_url": shown,
                        "secret_enc": sealed,
                        "key_version": rt.keyring.current_version,
                        "read_only": read_only,
                        "shared": shared,
                        "description": description,
                    },
                )
            )
    except PetcareError as exc:
        audit.record(
            rt.store,
            actor,
            "connection.add",
            "error",
            target=name,
            sqlstate=exc.sqlstate,
            detail={"error": exc.message},
        )
        if exc.sqlstate == "23505":
            raise ValidationError(f"a connection named {name!r} already exists") from exc
        raise
    audit.record(
        rt.store,
        actor,
        "connection.add",
        "ok",
        target=name,
        connection_id=conn_id,
        detail={"display_url": shown, "read_only": read_only, "shared": shared},
    )
    return conn_id


def list_connections(rt: Runtime, actor: Actor) -> list[Connection]:
    """Connections the actor may use."""
    with rt.store.tx(actor.identity) as tx:
        return [Connection(**row) for row in tx.all("connection_list")]


def _secret_row(rt: Runtime, actor: Actor, name: str) -> dict[str, Any]:
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("connection_secret", {"name": name})
    if row is None:
        raise NotFound(
            f"no connection named {name!r} (or it is not shared with you)",
            hint="petcare-dba connection list",
        )
    return row


def resolve_url(rt: Runtime, actor: Actor, name: str) -> str:
    """The decrypted conninfo of a connection the actor may use (never log it)."""
    row = _secret_row(rt, actor, name)
    return rt.keyring.open(bytes(row["secret_enc"]), _purpose(name))


@dataclass(frozen=True)
class Target:
    """What the engine needs to run on a connection, from one metadata round trip."""

    id: int
    name: str
    read_only: bool
    ai_consent: str
    url: str = field(repr=False)


def for_run(rt: Runtime, actor: Actor, name: str) -> Target:
    """A visible connection with its decrypted conninfo (never log `url`).

    On every engine run, so the lookup is one round trip (`MetaStore.call`), RLS as always.
    """
    rows = rt.store.call(actor.identity, "connection_secret", {"name": name})
    if not rows:
        raise NotFound(
            f"no connection named {name!r} (or it is not shared with you)",
            hint="petcare-dba connection list",
        )
    row = rows[0]
    url = rt.keyring.open(bytes(row["secret_enc"]), _purpose(name))
    return Target(int(row["id"]), row["name"], bool(row["read_only"]), row["ai_consent"], url)


def get(rt: Runtime, actor: Actor, name: str) -> Connection:
    """One visible connection by name."""
    for conn in list_connections(rt, actor):
        if conn.name == name:
            return conn
    raise NotFound(f"no connection named {name!r} (or it is not shared with you)")


def check(rt: Runtime, actor: Actor, name: str) -> ConnectionCheck:
    """Connect and report version, size and table count; errors become ok=False."""
    from petcare_dba.services import target_slots  # it imports this module

    try:
        with target_slots.url(rt, actor, name) as url:  # counts against the user's cap (F7)
            info = target.overview(
                url,
                target.application_name(actor.username, actor.session_id),
                int(rt.settings.connect_timeout_s),
            )
    except PetcareError as exc:
        return ConnectionCheck(name, False, error=exc.message)
    return ConnectionCheck(
        name,
        True,
        info["server_version"],
        info["database"],
        info["login_role"],
        int(info["database_bytes"]),
        int(info["table_count"]),
        int(info["sessions"]),
        info["latency_ms"],
    )


def remove(rt: Runtime, actor: Actor, name: str) -> None:
    """Delete a connection (owner or admin)."""
    with rt.store.tx(actor.identity) as tx:
        if tx.value("connection_delete", {"name": name}) is None:
            raise NotFound(f"no connection named {name!r} that you may delete")
    audit.record(rt.store, actor, "connection.remove", "ok", target=name)
