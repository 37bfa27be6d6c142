"""Per-user API tokens for the MCP server: create (shown once), list, revoke, authenticate.

A token is `pcd_<public_id>_<secret>`: 64 random bits that find the row and 256 random bits of
secret. The store keeps only the sha256 of the whole token (migration 0025), compared here in
constant time. A token is scoped to connections (none listed: every connection its user may
use) and to a maximum role; a call acts as the lower of that role and the user's role at the
time of the call, so demoting a user demotes their tokens. `authenticate` also counts the call
in the token's one-minute window in the shared store (the rate limit holds across instances)
and touches its last use. Every failure reads the same, so a caller learns nothing about which
part of a token was wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from petcare_dba.db.metastore import Identity
from petcare_dba.errors import AuthError, NotFound, PermissionDenied, QuotaExceeded, ValidationError
from petcare_dba.messages import say
from petcare_dba.services import connections
from petcare_dba.services.actor import ROLES, Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

PREFIX = "pcd_"
_SHAPE = re.compile(r"^pcd_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
MAX_DAYS = 365
INVALID = "invalid, expired or revoked token"


@dataclass(frozen=True)
class Token:
    """A token as its owner (or an admin) sees it; never the secret or its hash."""

    id: int
    name: str
    owner: str
    max_role: str
    connection_ids: tuple[int, ...] | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    active: bool


@dataclass(frozen=True)
class Created:
    """A new token: `secret` is the whole token, shown once and never stored."""

    id: int
    secret: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Principal:
    """Who calls through a verified token: the actor (capped role) and the token's scope."""

    token_id: int
    actor: Actor
    connection_ids: tuple[int, ...] | None


def digest(token: str) -> bytes:
    """The sha256 the store keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def create(
    rt: Runtime,
    actor: Actor,
    name: str,
    *,
    max_role: str | None = None,
    connection_names: tuple[str, ...] = (),
    days: int = 30,
) -> Created:
    """Create a token for the acting user; the returned secret is the only copy."""
    role = max_role or actor.role
    if role not in ROLES:
        raise ValidationError(say("msg.tokens.role", choices=", ".join(ROLES)))
    if not actor.at_least(role):
        raise PermissionDenied(say("msg.tokens.above_role", role=actor.role))
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(say("msg.tokens.days", n=MAX_DAYS))
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError(say("msg.tokens.name"))
    ids = [connections.get(rt, actor, c).id for c in connection_names]
    public_id = secrets.token_hex(8)
    token = f"{PREFIX}{public_id}_{secrets.token_urlsafe(32)}"
    with rt.store.tx(actor.identity) as tx:
        row = tx.one(
            "api_token_insert",
            {
                "name": name,
                "public_id": public_id,
                "token_hash": digest(token),
                "max_role": role,
                "connection_ids": sorted(set(ids)) or None,
                "days": days,
            },
        )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING
        audit.record_in(
            tx,
            actor,
            "mcp.token_create",
            "ok",
            target=str(row["id"]),
            detail={"name": name, "max_role": role, "connections": sorted(connection_names)},
        )
    return Created(int(row["id"]), token, row["expires_at"])


def list_tokens(rt: Runtime, actor: Actor) -> list[Token]:
    """The actor's tokens (an admin's: everyone's), newest first."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("api_token_list")
    return [
        Token(
            **{
                **r,
                "connection_ids": tuple(r["connection_ids"])
                if r["connection_ids"] is not None
                else None,
            }
        )
        for r in rows
    ]


def revoke(rt: Runtime, actor: Actor, token_id: int) -> None:
    """Revoke a token the actor may see (their own; an admin: any)."""
    with rt.store.tx(actor.identity) as tx:
        done = tx.value("api_token_revoke", {"id": token_id})
        if done is None:
            raise NotFound(
                say("msg.tokens.none", id=str(token_id)), hint=say("msg.tokens.none.hint")
            )
        audit.record_in(tx, actor, "mcp.token_revoke", "ok", target=str(token_id))


def _verify(rt: Runtime, token: str) -> dict[str, Any]:
    """The live token's row and user, or AuthError (one message for every kind of wrong token)."""
    text = token if isinstance(token, str) else ""
    found = _SHAPE.match(text)
    public_id = found.group(1) if found else "0" * 16
    with rt.store.tx(Identity(None, "mcp")) as tx:
        row = tx.one("api_token_lookup", {"public_id": public_id})
    # Compare a digest whether or not a row was found, so timing says nothing either way.
    stored = bytes(row["token_hash"]) if row is not None else b"\0" * 32
    if not hmac.compare_digest(digest(text), stored) or found is None or row is None:
        raise AuthError(INVALID)
    return row


def check(rt: Runtime, token: str) -> None:
    """Raise AuthError unless `token` is live (the HTTP gate; counts no call)."""
    _verify(rt, token)


def authenticate(rt: Runtime, token: str, *, session: str = "mcp") -> Principal:
    """The principal of a live token, with this call counted against its rate limit.

    Raises AuthError (one message for every kind of wrong token) or QuotaExceeded.
    """
    row = _verify(rt, token)
    with rt.store.tx(Identity(None, "mcp")) as tx:
        calls = tx.value("api_token_use", {"token_id": row["token_id"]})
    if calls is None:
        raise AuthError(INVALID)  # revoked between the two statements
    limit = int(rt.settings.mcp_calls_per_minute)
    if limit > 0 and int(calls) > limit:
        raise QuotaExceeded(
            f"rate limit: at most {limit} calls a minute per token", hint="retry in a minute"
        )
    rank = min(ROLES.index(row["role"]), ROLES.index(row["max_role"]))
    actor = Actor(
        int(row["user_id"]),
        row["username"],
        ROLES[rank],
        session_id=f"{session}:token:{row['token_id']}",
        language=row["language"],
        display_name=row["display_name"] or "",
    )
    ids = row["connection_ids"]
    return Principal(int(row["token_id"]), actor, tuple(ids) if ids is not None else None)
