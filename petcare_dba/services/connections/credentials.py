"""Stored target connections for use: a connection's conninfo unsealed, checked and leased.

A stored connection's conninfo is sealed (store.py) under a purpose bound to its name
(`purpose`, `read_purpose`); this module opens it again for the engine and the packaged reads:
`Target` is what a run needs, `resolve_url`/`resolve_read_url`/`resolve_for` give a conninfo,
`credential_for` picks the main or the least-privilege read credential (reliability Q3), and
`held` leases one of the user's slots while it is used (F7). Every decrypted conninfo goes
through `target.isolated`, so libpq never completes it from the app's PG* environment, .pgpass
or a service file unless an admin marked the connection `ambient_credentials` (Q14). It is apart
from `store` (register, change, list, test, remove) because it is the path every statement
takes, not the administration of the rows; no function here logs a conninfo.

`for_run`, on every statement's path, remembers a user's lookup for LOOKUP_TTL_S in the runtime
(issue 16: no metadata round trip before the audit intent). A change made through this process
(add, credentials, flags, remove) forgets every lookup at once; the engine's intent re-checks,
in the same round trip, that the connection is still visible and unchanged (its `stamp`, the
row's xmin), so a grant revoked or a credential changed by another process is honoured on the
next statement too; other features see it within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.db import target
from petcare_dba.errors import NotFound
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import privileges, slots
from petcare_dba.services.runtime import Runtime


# Sealing and opening must name the same purpose (the envelope is bound to it), so both
# sides take it from here.
def purpose(name: str) -> str:
    """The keyring purpose the main conninfo of connection `name` is sealed under."""
    return f"connection:{name}"


def read_purpose(name: str) -> str:
    """The keyring purpose of the connection's read-only credential."""
    return f"connection:{name}:read"


PRIMARY = "primary"
READ_ONLY = "read_only"
LOOKUP_TTL_S = 10.0
_LOOKUPS = threading.Lock()


def forget_lookups(rt: Runtime) -> None:
    """Drop every remembered `for_run` lookup (a connection, its sharing or grants changed)."""
    with _LOOKUPS:
        rt.connection_lookups.clear()


def secret_row(rt: Runtime, actor: Actor, name: str) -> dict[str, Any]:
    """The sealed row of a connection the actor may see (RLS), or NotFound."""
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("connection_secret", {"name": name})
    if row is None:
        raise NotFound(
            say("msg.connections.not_shared", name=repr(name)),
            hint=say("msg.connections.not_shared.hint"),
        )
    return row


def resolve_url(rt: Runtime, actor: Actor, name: str) -> str:
    """The decrypted, isolated conninfo of a connection the actor may use (never log it)."""
    return unsealed(rt, secret_row(rt, actor, name)).url


def resolve_read_url(rt: Runtime, actor: Actor, name: str, *, who: str) -> str:
    """The conninfo of the connection's read path for `who` (refused when over-privileged)."""
    info = unsealed(rt, secret_row(rt, actor, name))
    return credential_for(rt, actor, info, read_path=True, who=who)[0]


def resolve_for(rt: Runtime, actor: Actor, name: str) -> str:
    """The conninfo a packaged read runs on: the read path for viewers, else the main one."""
    if actor.role == "viewer":
        return resolve_read_url(rt, actor, name, who=say("msg.connections.who.viewers"))
    return resolve_url(rt, actor, name)


@dataclass(frozen=True)
class Target:
    """What the engine needs to run on a connection, from one metadata round trip."""

    id: int
    name: str
    read_only: bool
    ai_consent: str
    url: str = field(repr=False)
    read_url: str | None = field(default=None, repr=False)
    allow_stats: bool = False
    stamp: str | None = None  # the row's version (xmin) when read: the intent re-checks it


def unsealed(rt: Runtime, row: dict[str, Any]) -> Target:
    """A `Target` from a sealed row: conninfos opened and isolated (never log them)."""
    name = row["name"]
    ambient = bool(row.get("ambient_credentials"))
    url = target.isolated(rt.keyring.open(bytes(row["secret_enc"]), purpose(name)), ambient=ambient)
    read_url = None
    if row.get("read_secret_enc") is not None:
        plain = rt.keyring.open(bytes(row["read_secret_enc"]), read_purpose(name))
        read_url = target.isolated(plain, ambient=ambient)
    return Target(
        int(row["id"]),
        name,
        bool(row["read_only"]),
        row["ai_consent"],
        url,
        read_url,
        bool(row.get("allow_stats")),
        row.get("stamp"),
    )


def credential_for(
    rt: Runtime, actor: Actor, info: Target, *, read_path: bool, who: str = "viewers"
) -> tuple[str, str]:
    """(conninfo, "primary" | "read_only") for a run; the read path needs a least-privilege role.

    The read path uses the read-only credential when there is one, else the main one if that
    role is itself least-privileged; otherwise `Refused`, with the SQL to create a read role.
    """
    if not read_path:
        return info.url, PRIMARY
    url, path = (info.read_url, READ_ONLY) if info.read_url else (info.url, PRIMARY)
    caps = privileges.cached(rt, url, target.application_name(actor.username, actor.session_id))
    problems = caps.problems(allow_stats=info.allow_stats)
    if problems:
        raise privileges.refusal(info.name, caps, problems, who=who)
    return url, path


def for_run(rt: Runtime, actor: Actor, name: str) -> Target:
    """A visible connection with its decrypted conninfo (never log `url`).

    On every engine run: remembered per (user, name) for LOOKUP_TTL_S, else one round trip
    (`MetaStore.call`), RLS as always. A refusal is never remembered.
    """
    key = (actor.user_id, name)
    with _LOOKUPS:
        hit = rt.connection_lookups.get(key)
    if hit is not None and time.monotonic() - hit[0] < LOOKUP_TTL_S:
        # The sealed row is remembered, not the conninfo: it is opened and isolated again each
        # time, so the environment's checks (PGSERVICE, Q14) apply to every run.
        return unsealed(rt, hit[1])
    read_at = time.monotonic()
    rows = rt.store.call(actor.identity, "connection_secret", {"name": name})
    if not rows:
        raise NotFound(
            say("msg.connections.not_shared", name=repr(name)),
            hint=say("msg.connections.not_shared.hint"),
        )
    found = unsealed(rt, rows[0])
    with _LOOKUPS:
        rt.connection_lookups[key] = (read_at, rows[0])
    return found


@contextmanager
def held(
    rt: Runtime, actor: Actor, name: str, *, read_path: bool = False, who: str = "viewers"
) -> Iterator[str]:
    """The conninfo to use while one of the actor's slots on the connection is held (F7).

    The main credential by default (packaged catalog and monitoring queries); with `read_path`
    the least-privilege read credential, refused when over-privileged (Q3).
    """
    found = for_run(rt, actor, name)
    conninfo = credential_for(rt, actor, found, read_path=read_path, who=who)[0]
    with slots.hold(rt, actor, found.id):
        yield conninfo
