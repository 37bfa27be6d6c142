"""Passwords: argon2id hashing, the OWASP floor, the rehash rule, and the password policy.

Hashes use the deployment's argon2id cost (`password_hash_*` settings; argon2-cffi's defaults
m=64 MiB, t=3, p=4 unless set), never below OWASP's floor of m=19456 KiB, t=2, p=1; a stored
hash with other parameters is rehashed on the next successful login (L1). `dummy_hash` and
`dummy_prefix` are what an unknown user is checked against, so a wrong username costs the same
argon2 work as a wrong password (L3); they are made on first use, so importing this module (every
CLI call does) costs no argon2.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

import argon2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.services.security import hash_prefix

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; a cap keeps a request cheap
# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19456 KiB, t=2, p=1.
# https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
OWASP_MEMORY_KIB = 19456
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1
_COMMON = {"password1234", "123456789012", "qwertyuiop12", "petcarepetcare", "administrator"}


@dataclass(frozen=True)
class Cost:
    """The argon2id parameters new hashes get (the `password_hash_*` settings)."""

    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 4

    @classmethod
    def of(cls, settings: Any) -> Cost:
        """The cost a deployment's settings ask for."""
        return cls(
            settings.password_hash_memory_kib,
            settings.password_hash_time_cost,
            settings.password_hash_parallelism,
        )


DEFAULT = Cost()


@functools.cache
def _hasher(cost: Cost) -> PasswordHasher:
    hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    if not params_meet_floor(_parameters(hasher)):  # the settings' bounds say so too
        raise ValidationError(say("msg.security.hash_floor"))
    return hasher


def _parameters(hasher: PasswordHasher) -> argon2.Parameters:
    return argon2.Parameters(
        type=hasher.type,
        version=argon2.low_level.ARGON2_VERSION,
        salt_len=hasher.salt_len,
        hash_len=hasher.hash_len,
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )


@functools.cache
def dummy_hash(cost: Cost = DEFAULT) -> str:
    """Verified when the username is unknown, so both failures cost one argon2 verification."""
    return _hasher(cost).hash(secrets.token_urlsafe(16))


def dummy_prefix(cost: Cost = DEFAULT) -> tuple[argon2.Parameters, bytes] | None:
    """Hashed against while a delay runs (auth_begin returns no prefix then): the same work
    either way."""
    return hash_prefix.parse(dummy_hash(cost).rsplit("$", 1)[0], _hasher(cost).hash_len)


def hash_password(password: str, cost: Cost = DEFAULT) -> str:
    """argon2id hash of a password with the deployment's parameters."""
    return _hasher(cost).hash(password)


def current_parameters(cost: Cost = DEFAULT) -> argon2.Parameters:
    """The parameters `hash_password` uses now (a stored hash with others is rehashed)."""
    return _parameters(_hasher(cost))


def params_meet_floor(params: argon2.Parameters) -> bool:
    """True when argon2 parameters are argon2id with at least OWASP's (reliability L1)."""
    return (
        params.type is argon2.Type.ID
        and params.memory_cost >= OWASP_MEMORY_KIB
        and params.time_cost >= OWASP_TIME_COST
        and params.parallelism >= OWASP_PARALLELISM
    )


def meets_floor(password_hash: str) -> bool:
    """True when a stored hash is argon2id with at least OWASP's parameters (reliability L1)."""
    try:
        return params_meet_floor(argon2.extract_parameters(password_hash))
    except InvalidHashError:
        return False


def params_need_rehash(params: argon2.Parameters, cost: Cost = DEFAULT) -> bool:
    """True when a hash with these parameters is weaker than (or differs from) the current ones."""
    return not params_meet_floor(params) or params != current_parameters(cost)


def needs_rehash(password_hash: str, cost: Cost = DEFAULT) -> bool:
    """True when a hash is weaker than (or differs from) the current parameters."""
    try:
        return not meets_floor(password_hash) or _hasher(cost).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_policy(password: str, username: str = "") -> None:
    """Raise ValidationError when a password is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(say("msg.security.password_short", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(say("msg.security.password_long", n=MAX_PASSWORD_LENGTH))
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise ValidationError(say("msg.security.password_username"))
    if lowered in _COMMON or len(set(password)) < 5:
        raise ValidationError(say("msg.security.password_common"))


def verify_password(password_hash: str | None, password: str, cost: Cost = DEFAULT) -> bool:
    """Constant-work verification: a missing hash is checked against the dummy hash."""
    try:
        hasher = _hasher(cost)
        return bool(hasher.verify(password_hash or dummy_hash(cost), password)) and bool(
            password_hash
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password that satisfies the policy (shown once to the user)."""
    return secrets.token_urlsafe(18)
