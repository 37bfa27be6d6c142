"""Sign-in, server-side sessions and the session-cookie handoff.

Passwords themselves (hashing, policy, the rehash rule) are `security.passwords`. The stored digest
never leaves the database: the login path gets the parameters and salt (`auth_begin`), computes
the digest here and `auth_verify` compares it; an unknown user gets a stable fake prefix, so both
failures cost one argon2 computation, take the same time and get the same message. Lockout per
username and throttling per client address are counted in the metadata store, so they hold across
app instances. A session is an opaque 256-bit token; only its sha256 is stored. The token reaches
the browser's HttpOnly cookie through a single-use, 60-second handoff code that the server route
exchanges (`ui/server.py`), never through JavaScript; the code is bound to the pre-auth nonce of
the browser that signed in, so another browser cannot redeem it (login CSRF).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import argon2

from petcare_dba.db.metastore import ANONYMOUS, Identity, MetaStore
from petcare_dba.errors import AuthError, CryptoError, PetcareError, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.crypto import Keyring
from petcare_dba.services.security import audit, hash_prefix, passwords, totp
from petcare_dba.settings import Settings

GENERIC_FAILURE = "Invalid username or password, or the account is locked."
HANDOFF_SECONDS = 60


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
    with store.tx() as tx:
        row = tx.one(
            "auth_begin",
            {"username": username, "client_addr": client_addr, **gate_params(settings)},
        )
    assert row is not None  # noqa: S101 - auth_begin always returns one row
    return row


def _digest(row: dict[str, Any], password: str) -> tuple[str, argon2.Parameters | None]:
    """The digest for the attempt's prefix (the dummy one while a delay runs or when it is
    malformed: always one argon2 computation) and the parameters it used, None for the dummy."""
    parsed = None if row["wait_s"] else hash_prefix.parse(row["hash_prefix"], row["hash_len"])
    params, salt = parsed or passwords.DUMMY_PREFIX or (passwords.current_parameters(), b"\0" * 16)
    computed = hash_prefix.digest(params, salt, password[: passwords.MAX_PASSWORD_LENGTH])
    return computed, (params if parsed else None)


def _verify(
    store: MetaStore, settings: Settings, attempt_id: int, digest: str | None
) -> dict[str, Any]:
    """The database's verdict on a digest (it closes the attempt unless a second factor is due)."""
    with store.tx() as tx:
        row = tx.one(
            "auth_verify",
            {
                "attempt_id": attempt_id,
                "digest": digest,
                "window_min": settings.lockout_window_minutes,
            },
        )
    assert row is not None  # noqa: S101 - auth_verify always returns one row
    return row


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
    digest, params = _digest(row, password)
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
    digest, params = _digest(row, password)
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
    rehash = passwords.hash_password(password) if passwords.params_need_rehash(params) else None
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
    with store.tx(Identity(user_id, "login")) as tx:
        if rehash is not None:
            tx.execute("user_rehash", {"user_id": user_id, "password_hash": rehash})
        session_id = tx.value(
            "session_create",
            {
                "user_id": user_id,
                "token_hash": token_hash(token),
                "absolute_hours": settings.session_absolute_hours,
                "client_addr": client_addr,
                "user_agent": (user_agent or "")[:300],
            },
        )
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
    # Every rerun of every page checks the session: one round trip (`call`), not the four of a
    # `tx`, which a remote store (Supabase, 20-80 ms away) would feel on each click. Revocation
    # is still honoured on the very next rerun: nothing is cached.
    rows = store.call(
        ANONYMOUS,
        "session_resolve",
        {"token_hash": token_hash(token), "idle_min": settings.session_idle_minutes},
    )
    if not rows:
        return None
    row = rows[0]
    return Actor(
        int(row["user_id"]),
        row["username"],
        row["role"],
        f"s{row['session_id']}",
        client_addr,
        row["language"],
        row["display_name"] or "",
    )


def _session_number(actor: Actor) -> int | None:
    tag = actor.session_id
    return int(tag[1:]) if tag.startswith("s") and tag[1:].isdigit() else None


def logout(store: MetaStore, actor: Actor) -> None:
    """Revoke the actor's session server-side (a replayed token or cookie no longer resolves)."""
    session_id = _session_number(actor)
    if session_id is not None:
        with store.tx(actor.identity) as tx:
            tx.execute("session_revoke", {"session_id": session_id})
    audit.record(store, actor, "logout", "ok")


def revoke_token(store: MetaStore, token: str) -> bool:
    """Revoke the session a raw token names (the cookie route's logout); True if one was live."""
    if not token:
        return False
    with store.tx() as tx:
        return bool(tx.value("session_revoke_token", {"token_hash": token_hash(token)}))


def _handoff_purpose(session_id: int, binding: str) -> str:
    # The browser's pre-auth nonce is part of the AEAD's associated data: a code minted for one
    # browser cannot be opened with another browser's cookie (login CSRF, U5).
    return f"session-handoff:{session_id}:{hashlib.sha256(binding.encode('utf-8')).hexdigest()}"


def create_handoff(
    store: MetaStore, keyring: Keyring, actor: Actor, token: str, binding: str
) -> str:
    """A single-use code that `/auth/session` exchanges for the HttpOnly session cookie.

    The token is stored sealed (AES-GCM, bound to the session and to `binding`, the pre-auth
    nonce the signing-in browser holds in its HttpOnly cookie) for HANDOFF_SECONDS; the code
    itself is stored only as its sha256. Without a binding there is no code.
    """
    session_id = _session_number(actor)
    if session_id is None:
        raise ValidationError("only a signed-in browser session can get a session cookie")
    if len(binding) < 32:
        raise ValidationError("the browser holds no pre-auth nonce; sign-in stays in this tab")
    code = secrets.token_urlsafe(32)
    with store.tx(actor.identity) as tx:
        tx.execute(
            "session_handoff_insert",
            {
                "code_hash": token_hash(code),
                "user_id": actor.user_id,
                "session_id": session_id,
                "token_enc": keyring.seal(token, _handoff_purpose(session_id, binding)),
                "seconds": HANDOFF_SECONDS,
            },
        )
    return code


def handoff_pending(store: MetaStore, actor: Actor, code: str) -> bool:
    """True while the browser has not yet exchanged a handoff code."""
    with store.tx(actor.identity) as tx:
        return bool(tx.value("session_handoff_pending", {"code_hash": token_hash(code)}))


def take_handoff(
    store: MetaStore, settings: Settings, keyring: Keyring, code: str, binding: str
) -> str | None:
    """Exchange a handoff code for its session token (once); None when unknown, expired or
    presented by a browser whose pre-auth nonce is not the one the code was minted for."""
    if not code or len(code) > 200 or len(binding) < 32 or len(binding) > 200:
        return None
    try:
        with store.tx() as tx:
            row = tx.one("session_handoff_take", {"code_hash": token_hash(code)})
        if row is None:
            return None
        purpose = _handoff_purpose(int(row["session_id"]), binding)
        token = keyring.open(bytes(row["token_enc"]), purpose)
    except PetcareError:
        return None
    return token if resolve(store, settings, token) is not None else None


def set_language(store: MetaStore, actor: Actor, language: str) -> None:
    """Remember the actor's UI language."""
    with store.tx(actor.identity) as tx:
        tx.execute("user_set_language", {"user_id": actor.user_id, "language": language})
