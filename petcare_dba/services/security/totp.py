"""Optional per-user TOTP second factor (RFC 6238, via pyotp).

The secret is generated here, sealed with the keyring (bound to the user id) and stored in
`users.totp_secret_enc`, which `petcare_app` may write but read only through the `auth_totp`
definer for the user whose password was just verified. A code is accepted for the current time
step or one step either side (clock drift), each step at most once (replay), and every wrong code
counts as a failed login, so TOTP guesses hit the same lockout as passwords (reliability L7).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp

from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

ISSUER = "PetCare DBA Admin"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def purpose(user_id: int) -> str:
    """Associated data that binds a sealed TOTP secret to its user."""
    return f"totp:{user_id}"


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a code belongs to (within the drift window), or None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    generator = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # compare every candidate: the work does not depend on which one matches
        if hmac.compare_digest(generator.at(step * STEP_SECONDS), code):
            found = step
    return found


def code_for(secret: str, now: float | None = None) -> str:
    """The current code of a secret (tests and the enrolment check)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(time.time() if now is None else now)


@dataclass(frozen=True)
class Enrolment:
    """What a user needs to set up an authenticator app (shown once)."""

    username: str
    secret: str
    uri: str


def enable(rt: Runtime, actor: Actor, username: str) -> Enrolment:
    """Generate, seal and store a new TOTP secret for a user (admins, or the user themself)."""
    if username.lower() != actor.username.lower():
        actor.require("admin", say("msg.access.enabling_totp_for_another"))
    secret = pyotp.random_base32()
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("user_by_name", {"username": username})
        if row is None:
            raise NotFound(say("msg.security.no_user", name=repr(username)))
        user_id = int(row["id"])
        tx.execute(
            "user_set_totp",
            {
                "user_id": user_id,
                "secret": rt.keyring.seal(secret, purpose(user_id)),
                "enabled": True,
            },
        )
    audit.record(rt.store, actor, "user.totp_enable", "ok", target=row["username"])
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=row["username"], issuer_name=ISSUER
    )
    return Enrolment(row["username"], secret, uri)


def disable(rt: Runtime, actor: Actor, username: str) -> None:
    """Remove a user's TOTP secret (admins, or the user themself)."""
    if username.lower() != actor.username.lower():
        actor.require("admin", say("msg.access.disabling_totp_for_another"))
    with rt.store.tx(actor.identity) as tx:
        row = tx.one("user_by_name", {"username": username})
        if row is None:
            raise NotFound(say("msg.security.no_user", name=repr(username)))
        if not tx.execute(
            "user_set_totp", {"user_id": int(row["id"]), "secret": None, "enabled": False}
        ):
            raise ValidationError(say("msg.security.totp_unchanged", name=repr(username)))
    audit.record(rt.store, actor, "user.totp_disable", "ok", target=row["username"])
