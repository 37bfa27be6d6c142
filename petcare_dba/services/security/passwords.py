"""Passwords: argon2id hashing, the OWASP floor, the rehash rule, and the password policy.

Hashes use argon2-cffi's defaults (m=64 MiB, t=3, p=4), above OWASP's floor of m=19456 KiB, t=2,
p=1; a stored hash below the current parameters is rehashed on the next successful login (L1).
`DUMMY_HASH`/`DUMMY_PREFIX` are what an unknown user is checked against, so a wrong username costs
the same argon2 work as a wrong password (L3).
"""

from __future__ import annotations

import secrets

import argon2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from petcare_dba.errors import ValidationError
from petcare_dba.services.security import hash_prefix

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; a cap keeps a request cheap
# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19456 KiB, t=2, p=1.
# https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
OWASP_MEMORY_KIB = 19456
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1
_COMMON = {"password1234", "123456789012", "qwertyuiop12", "petcarepetcare", "administrator"}

_hasher = PasswordHasher()
# Verified when the username is unknown, so both failures cost one argon2 verification.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# Hashed against while a delay runs (auth_begin returns no prefix then): the same work either way.
DUMMY_PREFIX = hash_prefix.parse(DUMMY_HASH.rsplit("$", 1)[0], _hasher.hash_len)


def hash_password(password: str) -> str:
    """argon2id hash of a password with the current parameters."""
    return _hasher.hash(password)


def current_parameters() -> argon2.Parameters:
    """The parameters `hash_password` uses now (a stored hash with others is rehashed)."""
    return argon2.Parameters(
        type=_hasher.type,
        version=argon2.low_level.ARGON2_VERSION,
        salt_len=_hasher.salt_len,
        hash_len=_hasher.hash_len,
        time_cost=_hasher.time_cost,
        memory_cost=_hasher.memory_cost,
        parallelism=_hasher.parallelism,
    )


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


def params_need_rehash(params: argon2.Parameters) -> bool:
    """True when a hash with these parameters is weaker than (or differs from) the current ones."""
    return not params_meet_floor(params) or params != current_parameters()


def needs_rehash(password_hash: str) -> bool:
    """True when a hash is weaker than (or differs from) the current parameters."""
    try:
        return not meets_floor(password_hash) or _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_policy(password: str, username: str = "") -> None:
    """Raise ValidationError when a password is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise ValidationError("the password must not contain the username")
    if lowered in _COMMON or len(set(password)) < 5:
        raise ValidationError("the password is too common or repetitive")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work verification: a missing hash is checked against the dummy hash."""
    try:
        return bool(_hasher.verify(password_hash or DUMMY_HASH, password)) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password that satisfies the policy (shown once to the user)."""
    return secrets.token_urlsafe(18)
