"""The session-cookie handoff: a signed-in session's token reaches the browser's HttpOnly cookie.

The token travels through a single-use, 60-second handoff code that the server route exchanges
(`ui/server.py`), never through JavaScript; the code is bound to the pre-auth nonce of the browser
that signed in, so another browser cannot redeem it (login CSRF). The sign-in waits until the
code was taken: this process's route says so at once, another instance's through the store.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from petcare_dba.db.metastore import ANONYMOUS, MetaStore
from petcare_dba.errors import PetcareError, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.crypto import Keyring
from petcare_dba.services.security.auth import resolve, session_number, token_hash
from petcare_dba.settings import Settings

HANDOFF_SECONDS = 60
# Handoff codes of this process's sign-ins (sha256) -> (set when this process's route took one,
# when it was made). A sign-in interrupted between making a code and waiting for it leaves its
# entry behind: entries older than a code's life are dropped whenever a new one is made.
_handoffs: dict[bytes, tuple[threading.Event, float]] = {}
_handoffs_lock = threading.Lock()


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
    session_id = session_number(actor)
    if session_id is None:
        raise ValidationError(say("msg.security.handoff_session"))
    if len(binding) < 32:
        raise ValidationError(say("msg.security.handoff_nonce"))
    code = secrets.token_urlsafe(32)
    digest = token_hash(code)
    now = time.monotonic()
    with _handoffs_lock:
        for old in [k for k, (_, made) in _handoffs.items() if now - made > HANDOFF_SECONDS]:
            del _handoffs[old]
        _handoffs[digest] = (threading.Event(), now)
    store.call(
        actor.identity,
        "session_handoff_insert",
        {
            "code_hash": digest,
            "user_id": actor.user_id,
            "session_id": session_id,
            "token_enc": keyring.seal(token, _handoff_purpose(session_id, binding)),
            "seconds": HANDOFF_SECONDS,
        },
    )
    return code


def handoff_pending(store: MetaStore, actor: Actor, code: str) -> bool:
    """True while the browser has not yet exchanged a handoff code."""
    rows = store.call(actor.identity, "session_handoff_pending", {"code_hash": token_hash(code)})
    return bool(rows and rows[0]["pending"])


def wait_for_handoff(
    store: MetaStore, actor: Actor, code: str, limit_s: float, polls: tuple[float, float]
) -> bool:
    """Wait up to `limit_s` until the browser exchanged `code`; True once it did.

    This process's cookie route says so at once (no round trip); the store is asked only after
    each pause (`polls`: the first, doubling to the last), for a route served by another
    instance behind the same address.
    """
    digest = token_hash(code)
    with _handoffs_lock:
        taken = _handoffs.get(digest, (threading.Event(), 0.0))[0]
    deadline = time.monotonic() + limit_s
    pause = polls[0]
    try:
        while time.monotonic() < deadline:
            if taken.wait(min(pause, max(0.0, deadline - time.monotonic()))):
                return True
            if not handoff_pending(store, actor, code):
                return True
            pause = min(pause * 2, polls[1])
        return False
    finally:
        with _handoffs_lock:
            _handoffs.pop(digest, None)


def take_handoff(
    store: MetaStore, settings: Settings, keyring: Keyring, code: str, binding: str
) -> str | None:
    """Exchange a handoff code for its session token (once); None when unknown, expired or
    presented by a browser whose pre-auth nonce is not the one the code was minted for."""
    if not code or len(code) > 200 or len(binding) < 32 or len(binding) > 200:
        return None
    try:
        rows = store.call(ANONYMOUS, "session_handoff_take", {"code_hash": token_hash(code)})
        if not rows:
            return None
        row = rows[0]
        with _handoffs_lock:  # a sign-in of this process waiting for it goes on at once
            waiting = _handoffs.get(token_hash(code))
        if waiting is not None:
            waiting[0].set()
        purpose = _handoff_purpose(int(row["session_id"]), binding)
        token = keyring.open(bytes(row["token_enc"]), purpose)
    except PetcareError:
        return None
    return token if resolve(store, settings, token) is not None else None
