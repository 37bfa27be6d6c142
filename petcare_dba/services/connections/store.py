"""Stored target connections: register, list, test, remove, and decrypt for use.

The full conninfo is sealed with the keyring (AES-GCM envelope) bound to the connection's name,
only a password-free `display_url` is stored in clear, and no function here returns or logs the
password except `resolve_url`, which the engine calls to connect. Who may see or use a
connection is decided by row level security (owner, shared, granted, admin).

A connection may carry a second, read-only credential (sealed the same way under
`connection:<name>:read`) for the read path: viewers, read-only connections and the assistant run
only as a least-privilege role (`credential_for`, reliability Q3). Every decrypted conninfo goes
through `target.isolated`, so libpq never completes it from the app's PG* environment, .pgpass or
a service file unless an admin marked the connection `ambient_credentials` (Q14).

`for_run`, on every statement's path, remembers a user's lookup for LOOKUP_TTL_S in the runtime
(issue 16: no metadata round trip before the audit intent). A change made through this process
(add, credentials, flags, remove) forgets every lookup at once; the engine's intent re-checks,
in the same round trip, that the connection is still visible and unchanged (its `stamp`, the
row's xmin), so a grant revoked or a credential changed by another process is honoured on the
next statement too; other features see it within the TTL.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from petcare_dba.db import target
from petcare_dba.errors import NotFound, PetcareError, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import privileges, slots
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

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
    read_display_url: str | None = None
    ambient_credentials: bool = False
    allow_stats: bool = False


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
    primary_can: str | None = None
    read_can: str | None = None
    read_path_problems: tuple[str, ...] = ()


_PASSWORD_HINT = re.compile(r"://[^/@\s]*:[^/@\s]*@|password\s*=", re.IGNORECASE)


def has_password(url: str) -> bool:
    """Whether a URL or conninfo carries a password (also when it does not parse)."""
    try:
        return bool(target.parse_url(url).get("password"))
    except ValidationError:
        return bool(_PASSWORD_HINT.search(url))


def _purpose(name: str) -> str:
    return f"connection:{name}"


def _read_purpose(name: str) -> str:
    return f"connection:{name}:read"


PRIMARY = "primary"
READ_ONLY = "read_only"
LOOKUP_TTL_S = 10.0
URL_ROLE = "dba"  # the least role shown server addresses
_LOOKUPS = threading.Lock()


def forget_lookups(rt: Runtime) -> None:
    """Drop every remembered `for_run` lookup (a connection, its sharing or grants changed)."""
    with _LOOKUPS:
        rt.connection_lookups.clear()


def add(
    rt: Runtime,
    actor: Actor,
    name: str,
    url: str,
    *,
    read_only: bool = False,
    shared: bool = False,
    description: str = "",
    read_url: str | None = None,
    ambient_credentials: bool = False,
    allow_stats: bool = False,
) -> int:
    """Register a connection (dba or admin); the URL(s) are validated and sealed.

    `read_url` is the optional least-privilege credential of the read path; only an admin may
    mark a connection `ambient_credentials` (it lends the app process's PG* environment).
    """
    actor.require("dba", say("msg.access.adding_connections"))
    if not _NAME.match(name):
        raise ValidationError(say("msg.connections.bad_name", name=repr(name)))
    if ambient_credentials:
        actor.require("admin", say("msg.access.ambient_credentials"))
    if allow_stats:
        actor.require("admin", say("msg.access.allow_stats"))
    shown = target.display_url(url)
    target.isolated(url, ambient=ambient_credentials)  # refuses service=/passfile= early
    sealed = rt.keyring.seal(url, _purpose(name))
    read_shown = read_sealed = None
    if read_url:
        read_shown = target.display_url(read_url)
        target.isolated(read_url, ambient=ambient_credentials)
        read_sealed = rt.keyring.seal(read_url, _read_purpose(name))
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
                        "read_secret_enc": read_sealed,
                        "read_display_url": read_shown,
                        "ambient_credentials": ambient_credentials,
                        "allow_stats": allow_stats,
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
            raise ValidationError(say("msg.connections.exists", name=repr(name))) from exc
        raise
    forget_lookups(rt)  # a lookup of the name may have been refused, or named another row
    audit.record(
        rt.store,
        actor,
        "connection.add",
        "ok",
        target=name,
        connection_id=conn_id,
        detail={
            "display_url": shown,
            "read_only": read_only,
            "shared": shared,
            "read_display_url": read_shown,
            "ambient_credentials": ambient_credentials,
            "allow_stats": allow_stats,
        },
    )
    return conn_id


def set_read_credential(rt: Runtime, actor: Actor, name: str, read_url: str | None) -> None:
    """Set (or clear, with None) the read-only credential of a connection (owner or admin)."""
    actor.require("dba", say("msg.access.changing_connections"))
    row = _secret_row(rt, actor, name)
    primary = rt.keyring.open(bytes(row["secret_enc"]), _purpose(name))
    read_shown = read_sealed = None
    if read_url:
        read_shown = target.display_url(read_url)
        target.isolated(read_url, ambient=bool(row["ambient_credentials"]))
        read_sealed = rt.keyring.seal(read_url, _read_purpose(name))
    with rt.store.tx(actor.identity) as tx:
        done = tx.value(
            "connection_set_read_secret",
            {
                "name": name,
                "secret_enc": rt.keyring.seal(primary, _purpose(name)),
                "key_version": rt.keyring.current_version,
                "read_secret_enc": read_sealed,
                "read_display_url": read_shown,
            },
        )
    if done is None:
        raise NotFound(say("msg.connections.not_yours", name=repr(name)))
    privileges.forget(rt)
    forget_lookups(rt)
    audit.record(
        rt.store,
        actor,
        "connection.read_credential",
        "ok",
        target=name,
        connection_id=int(row["id"]),
        detail={"read_display_url": read_shown},
    )


def set_flags(
    rt: Runtime, actor: Actor, name: str, *, ambient_credentials: bool, allow_stats: bool
) -> None:
    """Admin: allow ambient credentials and/or statistics roles on the read path (audited)."""
    actor.require("admin", say("msg.access.credential_policy"))
    with rt.store.tx(actor.identity) as tx:
        done = tx.value(
            "connection_set_flags",
            {"name": name, "ambient_credentials": ambient_credentials, "allow_stats": allow_stats},
        )
    if done is None:
        raise NotFound(say("msg.connections.unknown", name=repr(name)))
    privileges.forget(rt)
    forget_lookups(rt)
    audit.record(
        rt.store,
        actor,
        "connection.flags",
        "ok",
        target=name,
        connection_id=int(done),
        detail={"ambient_credentials": ambient_credentials, "allow_stats": allow_stats},
    )


def list_connections(rt: Runtime, actor: Actor) -> list[Connection]:
    """Connections the actor may use; server addresses only for URL_ROLE and above.

    A display URL holds no password, but host, port, login and database name are a map for an
    attacker; a viewer needs the name, not where it lives.
    """
    with rt.store.tx(actor.identity) as tx:
        found = [Connection(**row) for row in tx.all("connection_list")]
    if actor.at_least(URL_ROLE):
        return found
    return [replace(c, display_url="", read_display_url=None) for c in found]


def _secret_row(rt: Runtime, actor: Actor, name: str) -> dict[str, Any]:
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
    return _target(rt, _secret_row(rt, actor, name)).url


def resolve_read_url(rt: Runtime, actor: Actor, name: str, *, who: str) -> str:
    """The conninfo of the connection's read path for `who` (refused when over-privileged)."""
    info = _target(rt, _secret_row(rt, actor, name))
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


def _target(rt: Runtime, row: dict[str, Any]) -> Target:
    name = row["name"]
    ambient = bool(row.get("ambient_credentials"))
    url = target.isolated(
        rt.keyring.open(bytes(row["secret_enc"]), _purpose(name)), ambient=ambient
    )
    read_url = None
    if row.get("read_secret_enc") is not None:
        plain = rt.keyring.open(bytes(row["read_secret_enc"]), _read_purpose(name))
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
        return _target(rt, hit[1])
    read_at = time.monotonic()
    rows = rt.store.call(actor.identity, "connection_secret", {"name": name})
    if not rows:
        raise NotFound(
            say("msg.connections.not_shared", name=repr(name)),
            hint=say("msg.connections.not_shared.hint"),
        )
    found = _target(rt, rows[0])
    with _LOOKUPS:
        rt.connection_lookups[key] = (read_at, rows[0])
    return found


def get(rt: Runtime, actor: Actor, name: str) -> Connection:
    """One visible connection by name."""
    for conn in list_connections(rt, actor):
        if conn.name == name:
            return conn
    raise NotFound(say("msg.connections.not_shared", name=repr(name)))


def check(rt: Runtime, actor: Actor, name: str) -> ConnectionCheck:
    """Connect and report version, size, tables and what each credential can do.

    Errors become ok=False. `read_path_problems` lists why the read path (viewers, read-only
    runs, the assistant) would be refused; health reports them as a problem.
    """
    app_name = target.application_name(actor.username, actor.session_id)
    timeout = rt.settings.connect_timeout_s
    try:
        info = _target(rt, _secret_row(rt, actor, name))
        with slots.hold(rt, actor, info.id):  # counts against the user's cap (F7)
            overview = target.overview(info.url, app_name, timeout)
            primary = privileges.inspect(info.url, app_name, timeout)
            read = privileges.inspect(info.read_url, app_name, timeout) if info.read_url else None
    except PetcareError as exc:
        return ConnectionCheck(name, False, error=exc.message)
    problems = (read or primary).problems(allow_stats=info.allow_stats)
    return ConnectionCheck(
        name,
        True,
        overview["server_version"],
        overview["database"],
        overview["login_role"],
        int(overview["database_bytes"]),
        int(overview["table_count"]),
        int(overview["sessions"]),
        overview["latency_ms"],
        primary_can=f"{primary.login_role}: {primary.summary()}",
        read_can=f"{read.login_role}: {read.summary()}" if read else None,
        read_path_problems=tuple(
            f"{'read-only' if read else 'main'} credential {(read or primary).login_role!r} {p}"
            for p in problems
        ),
    )


def remove(rt: Runtime, actor: Actor, name: str) -> None:
    """Delete a connection (owner or admin)."""
    with rt.store.tx(actor.identity) as tx:
        if tx.value("connection_delete", {"name": name}) is None:
            raise NotFound(say("msg.connections.not_yours_to_delete", name=repr(name)))
    forget_lookups(rt)
    audit.record(rt.store, actor, "connection.remove", "ok", target=name)


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
