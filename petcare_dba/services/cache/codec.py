"""How a cached value becomes bytes and back: tagged JSON, signed with a key of the deployment.

Both backends store these bytes, so an entry has one exact size (the bounds count it), a reader
gets its own copy (nothing cached is shared mutable state between users), and a value read back
from Redis is checked: the HMAC key comes from the secret key every instance shares, so an entry
that someone with access to Redis wrote or changed is refused as a miss, never shown. JSON, not
pickle: decoding never runs code. Types beyond JSON (timestamps, decimals, bytes, UUIDs,
intervals) are tagged; anything else makes the value uncacheable, which callers treat as "do not
cache", never as an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

VERSION = b"\x01"
_MAC_BYTES = 32
_TAG = "$t"


class Uncacheable(ValueError):
    """The value holds a type the codec does not carry."""


def mac_key(secret: bytes) -> bytes:
    """The cache's signing key, derived from the deployment's secret key (never the key itself)."""
    return hmac.new(secret, b"petcare-cache-mac:v1", hashlib.sha256).digest()


def _wrap(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; a tag keeps them exact.
        return (
            value
            if value == value and abs(value) != float("inf")
            else {_TAG: "f", "v": repr(value)}
        )
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: _wrap(v) for k, v in value.items()}
        return {_TAG: "d", "v": [[_wrap(k), _wrap(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_wrap(v) for v in value]
    if isinstance(value, datetime):
        return {_TAG: "dt", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "da", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "ti", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "td", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {_TAG: "n", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {_TAG: "b", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, uuid.UUID):
        return {_TAG: "u", "v": str(value)}
    raise Uncacheable(f"a {type(value).__name__} is not cached")


def _unwrap(obj: dict[str, Any]) -> Any:
    if set(obj) != {_TAG, "v"}:
        return obj
    tag, v = obj[_TAG], obj["v"]
    if tag == "d":
        return {_freeze(k): val for k, val in v}
    decoders: dict[str, Callable[[Any], Any]] = {
        "f": float,
        "dt": datetime.fromisoformat,
        "da": date.fromisoformat,
        "ti": time.fromisoformat,
        "td": lambda parts: timedelta(parts[0], parts[1], parts[2]),
        "n": Decimal,
        "b": base64.b64decode,
        "u": uuid.UUID,
    }
    if tag not in decoders:
        raise ValueError(f"unknown tag {tag!r}")
    return decoders[tag](v)


def _freeze(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def encode(value: Any, key: bytes) -> bytes:
    """Signed bytes of a value (raises Uncacheable for a type the codec does not carry)."""
    payload = json.dumps(_wrap(value), separators=(",", ":"), ensure_ascii=False).encode()
    return VERSION + hmac.new(key, payload, hashlib.sha256).digest() + payload


def decode(blob: bytes, key: bytes) -> Any:
    """The value of signed bytes; ValueError when the signature or the format is wrong."""
    if len(blob) < 1 + _MAC_BYTES or blob[:1] != VERSION:
        raise ValueError("not a cache entry of this version")
    mac, payload = blob[1 : 1 + _MAC_BYTES], blob[1 + _MAC_BYTES :]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise ValueError("the cache entry's signature does not match")
    return json.loads(payload, object_hook=_unwrap)


def canonical(value: Any) -> str:
    """One text per value with its types kept (1, "1", None and "None" all differ)."""
    return json.dumps(_wrap(value), separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def digest(key: bytes, *parts: str | int | None) -> str:
    """A keyed, collision-safe digest of key parts.

    JSON keeps ("a", "bc") apart from ("ab", "c"); the HMAC key keeps a credential or a
    statement that is part of a key from being guessed back from a key seen in Redis.
    """
    text = json.dumps(list(parts), ensure_ascii=False).encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()
