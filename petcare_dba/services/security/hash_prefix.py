"""The login path's half of argon2: parse a hash prefix and compute the digest it asks for.

The database never hands the app a stored password digest: `auth_begin` returns the encoded hash
without its final `$<digest>` (type, version, parameters and salt) and the digest length, and
`auth_verify` compares the digest computed here with the stored one. This module parses such a
prefix strictly (anything malformed is None, and the caller then spends the same argon2 work on a
local dummy prefix, so a bad row costs what a good one does) and encodes the digest exactly as
argon2's PHC string does: standard base64 without padding.
"""

from __future__ import annotations

import base64
import binascii

import argon2
from argon2.low_level import ARGON2_VERSION, hash_secret_raw

_TYPES = {"argon2id": argon2.Type.ID, "argon2i": argon2.Type.I, "argon2d": argon2.Type.D}
# Bounds that keep a hostile or corrupt row from costing more than a sane hash (1 GiB, t <= 64).
_MAX_MEMORY_KIB = 1 << 20
_MAX_TIME_COST = 64
_MAX_PARALLELISM = 64


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def parse(prefix: str | None, hash_len: int | None) -> tuple[argon2.Parameters, bytes] | None:
    """The parameters and salt of `$argon2id$v=19$m=..,t=..,p=..$<salt>`, or None."""
    if not prefix or hash_len is None or not 4 <= int(hash_len) <= 1024:
        return None
    parts = prefix.split("$")
    if len(parts) not in (4, 5) or parts[0] or parts[1] not in _TYPES:
        return None
    version = 0x10
    if len(parts) == 5:
        if not parts[2].startswith("v=") or not parts[2][2:].isdigit():
            return None
        version = int(parts[2][2:])
    try:
        fields = dict(item.split("=", 1) for item in parts[-2].split(","))
        memory, time_cost, lanes = int(fields["m"]), int(fields["t"]), int(fields["p"])
        salt = _b64decode(parts[-1])
    except (ValueError, KeyError, binascii.Error):
        return None
    if set(fields) != {"m", "t", "p"} or len(salt) < 8 or version not in (0x10, ARGON2_VERSION):
        return None
    if not (1 <= time_cost <= _MAX_TIME_COST and 1 <= lanes <= _MAX_PARALLELISM):
        return None
    if not 8 * lanes <= memory <= _MAX_MEMORY_KIB:
        return None
    params = argon2.Parameters(
        type=_TYPES[parts[1]],
        version=version,
        salt_len=len(salt),
        hash_len=int(hash_len),
        time_cost=time_cost,
        memory_cost=memory,
        parallelism=lanes,
    )
    return params, salt


def digest(params: argon2.Parameters, salt: bytes, password: str) -> str:
    """The digest part of the PHC string for this password, parameters and salt."""
    raw = hash_secret_raw(
        password.encode("utf-8", "surrogatepass"),  # never a traceback on a lone surrogate
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        type=params.type,
        version=params.version,
    )
    return base64.b64encode(raw).decode("ascii").rstrip("=")
