"""Messages of users, passwords, TOTP, the audit log and its export, MCP tokens, the session
cookie's handoff, stored credentials that cannot be opened and the secret key's rotation. Sign-in
failures stay one generic sentence (no user enumeration), said by the login form itself."""

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
    "msg.security.export_format": "unknown export format {fmt}; choose csv or jsonl",
    "msg.security.handoff_session": "only a signed-in browser session can get a session cookie",
    "msg.security.handoff_nonce": "the browser holds no pre-auth nonce; sign-in stays in this tab",
    "msg.crypto.other_key": "key version {version} was wrapped by a different secret key",
    "msg.crypto.other_key.hint": "the configured PETCARE_SECRET_KEY / key file is not the one in "
    "use; restore it or run `petcare-dba keys rotate --old-key ...`",
    "msg.crypto.unwrap": "key version {version} cannot be unwrapped",
    "msg.crypto.format": "the stored credential is not encrypted in a known format",
    "msg.crypto.unknown_version": "the stored credential uses unknown key version {version}",
    "msg.crypto.integrity": "the stored credential failed its integrity check (tampered or "
    "sealed for another record)",
    "msg.crypto.reenter.hint": "an admin must re-enter this connection's credentials",
    "msg.keys.from_env": "the secret key comes from PETCARE_SECRET_KEY, which this command "
    "cannot change",
    "msg.keys.from_env.hint": "give --new-key-file FILE, then point PETCARE_SECRET_KEY (or "
    "secret_key_file) at the new key and restart every app instance",
    "msg.keys.same": "the new key is the key in use",
    "msg.tokens.role": "role must be one of {choices}",
    "msg.tokens.above_role": "a token cannot exceed your role ({role})",
    "msg.tokens.days": "a token lives 1 to {n} days",
    "msg.tokens.name": "a token needs a name of 1 to 100 characters",
    "msg.tokens.none": "no active token {id} of yours",
    "msg.tokens.none.hint": "petcare-dba token list",
}
