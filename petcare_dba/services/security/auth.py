"""Sign-in and server-side sessions.

Passwords themselves (hashing, policy, the rehash rule) are `security.passwords`. The stored digest
never leaves the database: the login path gets the parameters and salt (`auth_begin`), computes
the digest here and `auth_verify` compares it; an unknown user gets a stable fake prefix, so both
failures cost one argon2 computation, take the same time and get the same message. Lockout per
username and throttling per client address are counted in the metadata store, so they hold across
app instances. A session is an opaque 256-bit token; only its sha256 is stored. The token reaches
the browser's HttpOnly cookie through a single-use, 60-second handoff code (`security.handoff`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

import argon2

from petcare_dba.db.metastore import ANONYMOUS, Identity, MetaStore
from petcare_dba.errors import AuthError, CryptoError
from petcare_dba.services.actor import Actor
from petcare_dba.services.crypto import Keyring
from petcare_dba.services.security import audit, hash_prefix, passwords, session_cache, totp
from petcare_dba.settings import Settings

GENERIC_FAILURE = "Invalid username or password, or the account is locked."


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the session token (for the cookie/session state) and the actor."""

    token: str
    actor: Actor


def gate_params(settings: Settings) -> dict[str, object]:
    """The lockout policy's knobs, as the parameters of auth_begin / auth_gate."""
    return {
        "window_min": settings.lockout_window_minutes,
        "free": settings.lockout_threshold,
        "base_s": float(settings.login_delay_base_seconds),
        "cap_s": float(settings.login_delay_max_seconds),
        "account_ceiling": settings.login_account_ceiling,
        "account_slow_s": float(settings.login_account_slow_seconds),
        "addr_threshold": settings.ip_throttle_threshold,
    }


def _begin(
    store: MetaStore, settings: Settings, username: str, client_addr: str | None
) -> dict[str, Any]:
    """Check the lockout policy and record the attempt; the hash prefix when it may proceed."""
    # One statement, so one round trip (`call`) rather than a transaction's four (issue 19).
    rows = store.call(
        ANONYMOUS,
        "auth_begin",
        {"username": username, "client_addr": client_addr, **gate_params(settings)},
    )
    assert rows  # noqa: S101 - auth_begin always returns one row
    return rows[0]


def _digest(
    row: dict[str, Any], password: str, cost: passwords.Cost
) -> tuple[str, argon2.Parameters | None]:
    """The digest for the attempt's prefix (the dummy one while a delay runs or when it is
    malformed: always one argon2 computation) and the parameters it used, None for the dummy."""
    parsed = None if row["wait_s"] else hash_prefix.parse(row["hash_prefix"], row["hash_len"])
    params, salt = (
        parsed or passwords.dummy_prefix(cost) or (passwords.current_parameters(cost), b"\0" * 16)
    )
    computed = hash_prefix.digest(params, salt, password[: passwords.MAX_PASSWORD_LENGTH])
    return computed, (params if parsed else None)


def _verify(
    store: MetaStore, settings: Settings, attempt_id: int, digest: str | None
) -> dict[str, Any]:
    """The database's verdict on a digest (it closes the attempt unless a second factor is due)."""
    rows = store.call(
        ANONYMOUS,
        "auth_verify",
        {"attempt_id": attempt_id, "digest": digest, "window_min": settings.lockout_window_minutes},
    )
    assert rows  # noqa: S101 - auth_verify always returns one row
    return rows[0]


def _finish(store: MetaStore, settings: Settings, attempt_id: int, reason: str | None) -> int:
    """Close an attempt waiting for its second factor; the guesses that now count."""
    with store.tx() as tx:
        value = tx.value(
            "auth_finish",
            {
                "attempt_id": attempt_id,
                "succeeded": reason is None,
                "reason": reason,
                "window_min": settings.lockout_window_minutes,
            },
        )
    return int(value or 0)


def check_current_password(
    store: MetaStore, settings: Settings, username: str, password: str
) -> bool:
    """Verify a user's current password through the throttled login path (password changes)."""
    row = _begin(store, settings, username, None)
    digest, params = _digest(row, password, passwords.Cost.of(settings))
    if params is None:
        return False  # a delay runs (recorded as 'locked' by auth_begin) or no usable prefix
    verdict = _verify(store, settings, int(row["attempt_id"]), digest)
    if verdict["pending"]:  # the password is right; a password change asks no second factor
        _finish(store, settings, int(row["attempt_id"]), None)
    return bool(verdict["verified"])


def _totp_ok(store: MetaStore, keyring: Keyring | None, user_id: int, code: str | None) -> bool:
    """Check a TOTP code for a user whose password was verified; a code is accepted once."""
    if not code or keyring is None:
        return False
    with store.tx(Identity(user_id, "login")) as tx:
        row = tx.one("auth_totp", {"user_id": user_id})
        if row is None or row["totp_secret_enc"] is None:
            return False
        try:
            secret = keyring.open(bytes(row["totp_secret_enc"]), totp.purpose(user_id))
        except CryptoError:
            return False
        step = totp.matching_step(secret, code)
        if step is None:
            return False
        return bool(tx.value("auth_totp_accept", {"user_id": user_id, "step": step}))


def login(
    store: MetaStore,
    settings: Settings,
    username: str,
    password: str,
    *,
    client_addr: str | None = None,
    user_agent: str | None = None,
    totp_code: str | None = None,
    keyring: Keyring | None = None,
) -> SignIn:
    """Verify credentials (and the TOTP code when enabled) and open a session.

    Every failure raises the same AuthError with the same message; the reason is recorded in the
    login attempts and the audit log only.
    """
    username = username.strip()[:200]
    row = _begin(store, settings, username, client_addr)
    blocked = bool(row["wait_s"])
    # Always one argon2 computation, whatever the username or lock state: equal cost.
    digest, params = _digest(row, password, passwords.Cost.of(settings))
    reason = None
    guesses = 0
    verdict: dict[str, Any] = {}
    if blocked:
        reason = "locked"  # recorded as such by auth_begin; no prefix was even read
    else:
        # A malformed prefix gets no digest: the database then records a failed guess.
        verdict = _verify(store, settings, int(row["attempt_id"]), digest if params else None)
        guesses = int(verdict["guesses"] or 0)
        if not verdict["verified"]:
            # The database records 'unknown user' or 'wrong password' in login_attempts but does
            # not tell the runtime role which (no enumeration through auth_verify).
            reason = "wrong password"
        elif verdict["disabled"]:
            reason = "disabled"
        elif verdict["pending"]:
            # TOTP failures count: TOTP guesses are throttled like passwords
            ok = _totp_ok(store, keyring, int(verdict["id"]), totp_code)
            reason = None if ok else "wrong totp"
            guesses = _finish(store, settings, int(row["attempt_id"]), reason)
    if reason is not None:
        detail: dict[str, object] = {"reason": reason}
        if blocked:
            detail["wait_s"] = round(float(row["wait_s"]), 1)
        elif reason in ("wrong password", "wrong totp"):
            if guesses == settings.lockout_threshold:
                detail["locked"] = True  # the guess that starts the delays (security event)
        audit.record(
            store,
            None,
            "login",
            "refused",
            username=username,
            client_addr=client_addr,
            detail=detail,
        )
        raise AuthError(GENERIC_FAILURE)
    assert params is not None  # noqa: S101 - a verified digest came from a parsed prefix
    cost = passwords.Cost.of(settings)
    rehash = (
        passwords.hash_password(password, cost)
        if passwords.params_need_rehash(params, cost)
        else None
    )
    row = verdict
    signed = open_session(
        store, settings, row, client_addr=client_addr, user_agent=user_agent, rehash=rehash
    )
    audit.record(store, signed.actor, "login", "ok", detail={"totp": bool(row["totp_enabled"])})
    return signed


def open_session(
    store: MetaStore,
    settings: Settings,
    row: dict[str, Any],
    *,
    client_addr: str | None = None,
    user_agent: str | None = None,
    rehash: str | None = None,
) -> SignIn:
    """Create a server-side session for an authenticated user row (id, username, role, language)."""
    user_id = int(row["id"])
    token = secrets.token_urlsafe(32)
    identity = Identity(user_id, "login")
    params = {
        "user_id": user_id,
        "token_hash": token_hash(token),
        "absolute_hours": settings.session_absolute_hours,
        "client_addr": client_addr,
        "user_agent": (user_agent or "")[:300],
    }
    if rehash is None:  # one statement: one round trip
        session_id = store.call(identity, "session_create", params)[0]["id"]
    else:
        with store.tx(identity) as tx:
            tx.execute("user_rehash", {"user_id": user_id, "password_hash": rehash})
            session_id = tx.value("session_create", params)
    actor = Actor(
        user_id, row["username"], row["role"], f"s{session_id}", client_addr, row.get("language")
    )
    return SignIn(token, actor)


def resolve(
    store: MetaStore, settings: Settings, token: str, client_addr: str | None = None
) -> Actor | None:
    """The actor of a live session token, or None when expired, revoked or unknown."""
    if not token:
        return None
    digest = token_hash(token)
    # Confirmed live within session_check_window_s: no round trip (issue 19). A revocation in
    # this process forgets it at once, one elsewhere is seen when the window ends.
    hit = session_cache.recall(store, digest, float(settings.session_check_window_s))
    if hit is not None:
        return replace(hit, client_addr=client_addr)
    seen, checked_at = session_cache.generation(), time.monotonic()
    # Otherwise one round trip (`call`), not the four of a `tx`, which a remote store (Supabase,
    # 20-80 ms away) would feel on each click.
    rows = store.call(
        ANONYMOUS,
        "session_resolve",
        {"token_hash": digest, "idle_min": settings.session_idle_minutes},
    )
    if not rows:
        return None
    row = rows[0]
    actor = Actor(
        int(row["user_id"]),
        row["username"],
        row["role"],
        f"s{row['session_id']}",
        client_addr,
        row["language"],
        row["display_name"] or "",
    )
    session_cache.remember(store, digest, actor, checked_at, seen)
    return actor


def session_number(actor: Actor) -> int | None:
    tag = actor.session_id
    return int(tag[1:]) if tag.startswith("s") and tag[1:].isdigit() else None


def logout(store: MetaStore, actor: Actor) -> None:
    """Revoke the actor's session server-side (a replayed token or cookie no longer resolves)."""
    session_id = session_number(actor)
    if session_id is not None:
        with store.tx(actor.identity) as tx:
            tx.execute("session_revoke", {"session_id": session_id})
    session_cache.forget_all()
    audit.record(store, actor, "logout", "ok")


def revoke_token(store: MetaStore, token: str) -> bool:
    """Revoke the session a raw token names (the cookie route's logout); True if one was live."""
    if not token:
        return False
    with store.tx() as tx:
        revoked = bool(tx.value("session_revoke_token", {"token_hash": token_hash(token)}))
    session_cache.forget_all()
    return revoked


def set_language(store: MetaStore, actor: Actor, language: str) -> None:
    """Remember the actor's UI language."""
    with store.tx(actor.identity) as tx:
        tx.execute("user_set_language", {"user_id": actor.user_id, "language": language})
