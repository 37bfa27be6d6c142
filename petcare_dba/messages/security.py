"""Messages of users, passwords, TOTP, the audit log and MCP tokens. Sign-in failures stay one
generic sentence (no user enumeration), said by the login form itself."""

from __future__ import annotations

TEMPLATES = {
    "msg.security.unknown_role": "unknown role {role}; choose one of {choices}",
    "msg.security.no_user": "no user named {name}",
    "msg.security.disable_self": "you cannot disable yourself",
    "msg.security.wrong_password": "the current password is not correct",
    "msg.security.same_password": "the new password must differ from the current one",
    "msg.security.user_disabled": "user {name} is disabled",
    "msg.security.password_short": "the password must have at least {n} characters",
    "msg.security.hash_floor": "the password hash parameters are below OWASP's argon2id floor "
    "(19456 KiB, 2 passes, 1 lane)",
    "msg.security.password_long": "the password must have at most {n} characters",
    "msg.security.password_username": "the password must not contain the username",
    "msg.security.password_common": "the password is too common or repetitive",
    "msg.security.totp_unchanged": "cannot change TOTP of {name}",
    "msg.security.audit_down": "audit unavailable: {message}",
    "msg.security.audit_down.hint": "nothing was run; retry when the metadata store is back",
    "msg.tokens.role": "role must be one of {choices}",
    "msg.tokens.above_role": "a token cannot exceed your role ({role})",
    "msg.tokens.days": "a token lives 1 to {n} days",
    "msg.tokens.name": "a token needs a name of 1 to 100 characters",
    "msg.tokens.none": "no active token {id} of yours",
    "msg.tokens.none.hint": "petcare-dba token list",
}
