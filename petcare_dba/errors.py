"""The one exception family of PetCare DBA Admin.

Every error a user can see is a `PetcareError` carrying user-ready fields: a message, a short
title, a hint saying what to do, and — when PostgreSQL produced it — the SQLSTATE, detail and the
character position in the statement. Driver errors are translated into this family at the `db/`
boundary (`petcare_dba.db.errors`); the UI renders them in one component and the CLI prints them to
stderr and exits 1. Messages never contain passwords or conninfo (the translator redacts them).
A message or hint made with `messages.say` is English text that also carries its catalogue key
and values (`key`, `params`, `hint_key`, `hint_params`), so the UI says it in the user's language
while everything else keeps the English; each class's `title` has the key `errors.title.<Class>`
(`title_key`, `TITLES`).
"""

from __future__ import annotations

import re
from typing import Any

from petcare_dba.messages import Text


class PetcareError(Exception):
    """Base of all user-facing errors."""

    title = "Error"
    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        hint: str | None = None,
        sqlstate: str | None = None,
        detail: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title
        self.hint = hint
        self.sqlstate = sqlstate
        self.detail = detail
        self.position = position

    def __str__(self) -> str:
        return self.message

    @property
    def key(self) -> str | None:
        """The catalogue key of the message, when it was made with `messages.say`."""
        return self.message.key or None if isinstance(self.message, Text) else None

    @property
    def params(self) -> dict[str, Any]:
        """The values of the message's template (empty without a key)."""
        return dict(self.message.params) if isinstance(self.message, Text) else {}

    @property
    def hint_key(self) -> str | None:
        """The catalogue key of the hint, when it has one."""
        return self.hint.key or None if isinstance(self.hint, Text) else None

    @property
    def hint_params(self) -> dict[str, Any]:
        """The values of the hint's template (empty without a key)."""
        return dict(self.hint.params) if isinstance(self.hint, Text) else {}

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view for `--format json` and the audit log."""
        return {
            "error": type(self).__name__,
            "title": self.title,
            "message": self.message,
            "hint": self.hint,
            "sqlstate": self.sqlstate,
            "detail": self.detail,
            "position": self.position,
        }


class ConfigError(PetcareError):
    """A setting, key or file is missing or invalid."""

    title = "Configuration error"


class DatabaseError(PetcareError):
    """PostgreSQL reported an error for a statement."""

    title = "Database error"


class ConnectionLost(DatabaseError):
    """The server went away (dropped connection, terminated backend, restart)."""

    title = "Connection lost"


class Unavailable(PetcareError):
    """A required component (metadata store, audit log, pool) cannot serve right now."""

    title = "Unavailable"


class QueryTimeout(DatabaseError):
    """A statement or lock timeout fired."""

    title = "Timeout"


class QueryCancelled(DatabaseError):
    """The user cancelled the statement."""

    title = "Cancelled"


class AuthError(PetcareError):
    """Login failed. The message is deliberately generic (no user enumeration)."""

    title = "Sign-in failed"


class PermissionDenied(PetcareError):
    """The signed-in user may not do this."""

    title = "Not allowed"


class NotFound(PetcareError):
    """A named object does not exist (or is not visible to this user)."""

    title = "Not found"


class Refused(PetcareError):
    """A statement was refused by a safety rule; exit code 2 on the CLI."""

    title = "Refused"
    exit_code = 2


class ValidationError(PetcareError):
    """Input that cannot be accepted (bad name, weak password, SQL syntax error)."""

    title = "Invalid input"


class CryptoError(PetcareError):
    """A stored secret cannot be decrypted (tampered, unknown key version, wrong key)."""

    title = "Credential error"


class NeedsConfirmation(Refused):
    """A statement needs a second, explicit confirmation naming what it affects (exit code 2).

    `objects` are the affected objects as written in the SQL; `reason` says why (destructive,
    effects unknown). Run again with `confirmed=True` (`--yes` on the CLI) to proceed.
    """

    title = "Confirmation needed"

    def __init__(
        self,
        message: str,
        *,
        objects: tuple[str, ...] = (),
        reason: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.objects = objects
        self.reason = reason


class QuotaExceeded(PetcareError):
    """A per-user budget (such as the assistant's daily tokens) is used up."""

    title = "Quota exceeded"


class EditConflict(PetcareError):
    """A save was based on a version that someone else has since replaced (nothing was saved).

    Carries what the user needs to choose: the version they started from, the latest version and
    its author, the latest content, and a unified diff from the latest to theirs.
    """

    title = "Edit conflict"

    def __init__(
        self,
        message: str,
        *,
        base_version: int,
        current_version: int,
        current_author: str,
        current_content: str,
        diff: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.base_version = base_version
        self.current_version = current_version
        self.current_author = current_author
        self.current_content = current_content
        self.diff = diff


# The family as the UI names it: each class's title under `errors.title.<Class>` (subclasses
# elsewhere in the house, such as `backups.files.Tampered`, inherit a title from here).
FAMILY: tuple[type[PetcareError], ...] = (
    PetcareError,
    ConfigError,
    DatabaseError,
    ConnectionLost,
    Unavailable,
    QueryTimeout,
    QueryCancelled,
    AuthError,
    PermissionDenied,
    NotFound,
    Refused,
    ValidationError,
    CryptoError,
    NeedsConfirmation,
    QuotaExceeded,
    EditConflict,
)
TITLES = {f"errors.title.{cls.__name__}": cls.title for cls in FAMILY}
_TITLE_KEYS = {title: key for key, title in TITLES.items()}


def title_key(title: str) -> str | None:
    """The catalogue key of a title, when it is one of the family's (a class's own, or the same
    words passed at raise time); None for any other title."""
    return _TITLE_KEYS.get(title)


# Secrets never reach a message, a log line or the audit log: every layer redacts with this one.
_SECRET_PATTERNS = (
    re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),
    re.compile(r"(PASSWORD\s+)('(?:[^']|'')*'|\$[^$]*\$.*?\$[^$]*\$)", re.IGNORECASE | re.DOTALL),
)


def redact(text: str | None) -> str:
    """Remove passwords from conninfo strings, URLs and `PASSWORD '...'` clauses."""
    if not text:
        return text or ""
    out = text
    out = _SECRET_PATTERNS[0].sub(r"\1***", out)
    out = _SECRET_PATTERNS[1].sub(r"\1***\3", out)
    out = _SECRET_PATTERNS[2].sub(r"\1'***'", out)
    return out
