"""Stored target connections: register, change, list, test and remove them.

The full conninfo is sealed with the keyring (AES-GCM envelope) bound to the connection's name,
only a password-free `display_url` is stored in clear, and no function here returns or logs the
password. Who may see or use a connection is decided by row level security (owner, shared,
granted, admin). A connection may carry a second, read-only credential (sealed the same way) for
the read path. Opening a sealed conninfo for use (`resolve_url`, `for_run`, `credential_for`,
`held`) lives in `credentials`, which also keeps the lookups every change here forgets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from petcare_dba.db import target
from petcare_dba.errors import NotFound, PetcareError, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import credentials, privileges, slots
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


URL_ROLE = "dba"  # the least role shown server addresses


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
    sealed = rt.keyring.seal(url, credentials.purpose(name))
    read_shown = read_sealed = None
    if read_url:
        read_shown = target.display_url(read_url)
        target.isolated(read_url, ambient=ambient_credentials)
        read_sealed = rt.keyring.seal(read_url, credentials.read_purpose(name))
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
    credentials.forget_lookups(
        rt
    )  # a lookup of the name may have been refused, or named another row
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
    row = credentials.secret_row(rt, actor, name)
    primary = rt.keyring.open(bytes(row["secret_enc"]), credentials.purpose(name))
    read_shown = read_sealed = None
    if read_url:
        read_shown = target.display_url(read_url)
        target.isolated(read_url, ambient=bool(row["ambient_credentials"]))
        read_sealed = rt.keyring.seal(read_url, credentials.read_purpose(name))
    with rt.store.tx(actor.identity) as tx:
        done = tx.value(
            "connection_set_read_secret",
            {
                "name": name,
                "secret_enc": rt.keyring.seal(primary, credentials.purpose(name)),
                "key_version": rt.keyring.current_version,
                "read_secret_enc": read_sealed,
                "read_display_url": read_shown,
            },
        )
    if done is None:
        raise NotFound(say("msg.connections.not_yours", name=repr(name)))
    privileges.forget(rt)
    credentials.forget_lookups(rt)
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
    credentials.forget_lookups(rt)
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
        info = credentials.unsealed(rt, credentials.secret_row(rt, actor, name))
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
    credentials.forget_lookups(rt)
    audit.record(rt.store, actor, "connection.remove", "ok", target=name)
