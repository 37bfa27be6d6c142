"""Sign-in, server-side sessions, password hashing and policy.

Passwords are argon2id (argon2-cffi defaults: m=64 MiB, t=3, p=4, above OWASP's floor) and are
rehashed on the next successful login when parameters rise. Lockout per username and throttling
per client address are counted in the metadata store (so they hold across app instances). Unknown
users are verified against a dummy hash so that "unknown user" and "wrong password" take the same
time and get the same message. A session is an opaque 256-bit token; only its sha256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from petcare_dba.db.metastore import Identity, MetaStore
from petcare_dba.errors import AuthError, ValidationError
from petcare_dba.services import audit
from petcare_dba.services.actor import Actor
from petcare_dba.settings import Settings

GENERIC_FAILURE = "Invalid username or password, or the account is locked."
MIN_PASSWORD_LENGTH = 12
_COMMON = {"password1234", "123456789012", "qwertyuiop12", "petcarepetcare", "administrator"}

_hasher = PasswordHasher()
# Verified when the username is unknown, so both failures cost one argon2 verification.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher.hash(password)


def check_policy(password: str, username: str = "") -> None:
    """Raise ValidationError when a password is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise ValidationError("the password must not contain the username")
    if lowered in _COMMON or len(set(password)) < 5:
        raise ValidationError("the password is too common or repetitive")


def generate_password() -> str:
    """A random password that satisfies the policy (shown once to the user)."""
    return secrets.token_urlsafe(18)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the session token (for the cookie/session state) and the actor."""

    token: str
    actor: Actor


def _window(settings: Settings) -> dict[str, int]:
    return {"user_window_min": int(settings.lockout_window_minutes)}


def login(
    store: MetaStore,
    settings: Settings,
    username: str,
    password: str,
    *,
    client_addr: str | None = None,
    user_agent: str | None = None,
) -> SignIn:
    """Verify credentials and open a session; every failure raises the same AuthError."""
    username = username.strip()
    base = {"username": username, "client_addr": client_addr, **_window(settings)}
    with store.tx() as tx:
        counts = tx.one("auth_failures", base) or {}
        row = tx.one("auth_lookup", {"username": username})
    blocked = (
        counts.get("user_failures", 0) >= settings.lockout_threshold
        or counts.get("addr_failures", 0) >= settings.ip_throttle_threshold
    )
    stored_hash = (row or {}).get("password_hash") or _DUMMY_HASH
    verified: bool
    try:
        verified = _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        verified = False
    reason = None
    if row is None:
        reason = "unknown user"
    elif blocked:
        reason = "locked"
    elif not verified:
        reason = "wrong password"
    elif row["disabled"]:
        reason = "disabled"
    with store.tx() as tx:
        tx.one("auth_record_attempt", {**base, "succeeded": reason is None, "reason": reason})
    if reason is not None:
        audit.record(
            store,
            None,
            "login",
            "refused",
            username=username[:200],
            client_addr=client_addr,
            detail={"reason": reason},
        )
        raise AuthError(GENERIC_FAILURE)
    assert row is not None  # noqa: S101 - reason is None implies a row
    user_id = int(row["id"])
    token = secrets.token_urlsafe(32)
    with store.tx(Identity(user_id, "login")) as tx:
        if _hasher.check_needs_rehash(row["password_hash"]):
            tx.execute(
                "user_rehash", {"user_id": user_id, "password_hash": hash_password(password)}
            )
        session_id = tx.value(
            "session_create",
            {
                "user_id": user_id,
                "token_hash": token_hash(token),
                "absolute_hours": int(settings.session_absolute_hours),
                "client_addr": client_addr,
                "user_agent": (user_agent or "")[:300],
            },
        )
    actor = Actor(
        user_id, row["username"], row["role"], f"s{session_id}", client_addr, row["language"]
    )
    audit.record(store, actor, "login", "ok")
    return SignIn(token, actor)


def resolve(
    store: MetaStore, settings: Settings, token: str, client_addr: str | None = None
) -> Actor | None:
    """The actor of a live session token, or None when expired, revoked or unknown."""
    if not token:
        return None
    with store.tx() as tx:
        row = tx.one(
            "session_resolve",
            {"token_hash": token_hash(token), "idle_min": int(settings.session_idle_minutes)},
        )
    if row is None:
        return None
    return Actor(
        int(row["user_id"]),
        row["username"],
        row["role"],
        f"s{row['session_id']}",
        client_addr,
        row["language"],
        row["display_name"] or "",
    )


def logout(store: MetaStore, actor: Actor) -> None:
    """Revoke the actor's session server-side (a replayed token no longer resolves)."""
    session_id = int(actor.session_id.lstrip("s")) if actor.session_id.startswith("s") else None
    if session_id is not None:
        with store.tx(actor.identity) as tx:
            tx.execute("session_revoke", {"session_id": session_id})
    audit.record(store, actor, "logout", "ok")


def set_language(store: MetaStore, actor: Actor, language: str) -> None:
    """Remember the actor's UI language."""
    with store.tx(actor.identity) as tx:
        tx.execute("user_set_language", {"user_id": actor.user_id, "language": language})
