"""SQL text as it enters the house: one check for every entry, and what the audit keeps of it.

Every entry that accepts SQL text (the editor, the CLI's `sql`/`classify`/`explain`/`export`
and `-f` files, the assistant's question and tool SQL, project script save and import) calls
`check` before anything else, so an oversized text, a NUL byte (PostgreSQL text cannot hold
one) or a lone surrogate (no UTF-8 encoding exists) is refused with one clear message naming
the setting. `read_text_file` decodes a file as strict UTF-8 the same way. `audit_view` is what
an audit or execution row keeps of a submitted text: a bounded prefix (NUL bytes escaped) and
the sha256 of the whole text as submitted, never only of the text that was executed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from petcare_dba.errors import ValidationError
from petcare_dba.messages import say
from petcare_dba.settings import Settings

# The database truncates any stored SQL text beyond this (migration audit_bounds), whatever the
# setting says: the app's prefix setting cannot exceed it.
DB_PREFIX_CAP = 65536
# What a row keeps when the caller has no settings at hand (the setting's default).
DEFAULT_PREFIX_BYTES = 4096


class NulInText(ValidationError):
    """SQL text with a NUL byte: refused (and audited by the engine with an escaped prefix)."""


def _encoded(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = f"U+{ord(text[exc.start]):04X}"
        raise ValidationError(
            say("msg.sql.surrogate", what=what, code=code, n=exc.start + 1),
            hint=say("msg.sql.surrogate.hint"),
        ) from None


def check(text: str, settings: Settings, *, what: str | None = None) -> None:
    """Refuse text that is too large, not encodable as UTF-8, or holds a NUL byte; `what` names
    the text in the message (`messages.say("msg.sql.what.…")`; default: SQL text)."""
    what = what or say("msg.sql.what.text")
    limit = settings.max_sql_bytes
    # A str never takes fewer UTF-8 bytes than characters: skip encoding an obviously long one.
    if len(text) > limit:
        raise _too_large(what, None, limit)
    size = len(_encoded(text, what))
    if size > limit:
        raise _too_large(what, size, limit)
    if "\x00" in text:
        raise NulInText(
            say("msg.sql.nul", what=what, n=text.index(chr(0)) + 1), hint=say("msg.sql.nul.hint")
        )


def _too_large(what: str, size: int | None, limit: int) -> ValidationError:
    message = (
        say("msg.sql.too_large", what=what, size=size, limit=limit)
        if size is not None
        else say("msg.sql.too_large_unmeasured", what=what, limit=limit)
    )
    return ValidationError(message, hint=say("msg.sql.too_large.hint"))


def read_text_file(path: Path | str, settings: Settings, *, what: str | None = None) -> str:
    """A file's text as strict UTF-8, size-checked before it is read whole.

    Raises ValidationError (never UnicodeDecodeError or OSError) naming the file (`what` and the
    path; without `what`, "SQL file <path>") and the byte offset of the first undecodable byte.
    """
    file = Path(path)
    named = say("msg.sql.what.file", path=str(file)) if what is None else f"{what} {file}"
    limit = settings.max_sql_bytes
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ValidationError(
            say("msg.sql.cannot_read", path=str(file), problem=exc.strerror or str(exc))
        ) from None
    if len(data) > limit:
        raise _too_large(named, None, limit)
    return decode(data, named, settings)


def read_stream(stream: BinaryIO, settings: Settings, *, what: str | None = None) -> str:
    """A binary stream (standard input) as strict UTF-8 text, reading at most the limit + 1."""
    what = say("msg.sql.what.stdin") if what is None else what
    limit = settings.max_sql_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(what, None, limit)
    return decode(data, what, settings)


def decode(data: bytes, what: str, settings: Settings) -> str:
    """Bytes as strict UTF-8 text, then `check`ed; a clear error for invalid UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            say("msg.sql.not_utf8", what=what, byte=f"{data[exc.start]:02x}", offset=exc.start),
            hint=say("msg.sql.not_utf8.hint"),
        ) from None
    check(text, settings, what=what)
    return text


@dataclass(frozen=True)
class AuditView:
    """What a stored row keeps of a submitted text."""

    prefix: str
    sha256: str
    size: int
    truncated: bool


def escape_nul(text: str) -> str:
    """NUL bytes shown as the four characters `\\x00` (PostgreSQL text cannot hold NUL)."""
    return text.replace("\x00", "\\x00")


def sha256(text: str) -> str:
    """sha256 of the text's UTF-8 bytes (lone surrogates kept as their surrogatepass bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def audit_view(text: str, prefix_bytes: int) -> AuditView:
    """A prefix of at most `prefix_bytes` UTF-8 bytes (cut on a character) and the whole hash."""
    cap = max(0, min(int(prefix_bytes), DB_PREFIX_CAP))
    raw = text.encode("utf-8", "surrogatepass")
    escaped = escape_nul(text)
    encoded = escaped.encode("utf-8", "surrogatepass")
    cut = encoded[:cap].decode("utf-8", "ignore") if len(encoded) > cap else escaped
    # Surrogates cannot reach PostgreSQL either; they are refused before, this is belt and braces.
    cut = cut.encode("utf-8", "replace").decode("utf-8")
    return AuditView(cut, hashlib.sha256(raw).hexdigest(), len(raw), len(encoded) > cap)
