"""App users: create, list, change role, enable/disable, unlock, passwords, and the first admin.

Admin-only operations are enforced twice: here (a clear message) and by the metadata store's
row level security and the users_guard trigger (so a bug here cannot grant a role). Every
change is audited. A password change (by the user or an admin reset) revokes every session of
that user server-side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petcare_dba.db import admin
from petcare_dba.errors import NotFound, ValidationError
from petcare_dba.messages import say
from petcare_dba.services.actor import ROLES, Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth, passwords, session_cache


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    disabled: bool
    language: str | None
    totp_enabled: bool
    locked_until: datetime | None
    created_at: datetime


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(
            say("msg.security.unknown_role", role=repr(role), choices=", ".join(ROLES))
        )


def ensure_first_admin(rt: Runtime, username: str = "admin") -> str | None:
    """Create the first admin on an empty store; returns the generated password (else None).

    A store that has users but no enabled admin (a superuser changed the table behind the app's
    back) is left alone: creating `admin` again would collide with the existing row, and choosing
    whom to promote is the operator's call (`petcare-dba user recover-admin NAME`).
    """
    if admin.first_admin(rt.admin_url, names=rt.names) is not None:
        return None
    if admin.user_by_name(rt.admin_url, username, names=rt.names) is not None:
        return None
    password = rt.settings.admin_password or passwords.generate_password()
    passwords.check_policy(password, username)
    user_id = admin.create_first_admin(
        rt.admin_url,
        username,
        passwords.hash_password(password, passwords.Cost.of(rt.settings)),
        names=rt.names,
    )
    actor = Actor(user_id, username, "admin", "bootstrap")
    audit.record(
        rt.store,
        actor,
        "user.create",
        "ok",
        target=username,
        detail={"role": "admin", "first_admin": True},
    )
    return None if rt.settings.admin_password else password


def recover_admin(rt: Runtime, username: str, *, new_password: bool = False) -> str | None:
    """Break-glass: make `username` an enabled, unlocked admin (created when missing).

    Needs the store's admin URL (whoever holds the data directory, or database_url and the
    secret key). Returns a generated password when the user was created or `new_password` asked
    for one (shown once), else None.
    """
    existing = admin.user_by_name(rt.admin_url, username, names=rt.names)
    password = passwords.generate_password() if new_password or existing is None else None
    user_id, created = admin.recover_admin(
        rt.admin_url,
        username,
        passwords.hash_password(password, passwords.Cost.of(rt.settings)) if password else None,
        names=rt.names,
    )
    actor = Actor(user_id, username, "admin", "recover-admin")
    audit.record(
        rt.store,
        actor,
        "user.recover_admin",
        "ok",
        target=username,
        detail={"created": created, "password_reset": password is not None},
    )
    return password


def add_user(
    rt: Runtime,
    actor: Actor,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    email: str | None = None,
) -> int:
    """Create a user (admins only)."""
    actor.require("admin", say("msg.access.creating_users"))
    _check_role(role)
    passwords.check_policy(password, username)
    try:
        with rt.store.tx(actor.identity) as tx:
            user_id = int(
                tx.value(
                    "user_insert",
                    {
                        "username": username,
                        "display_name": display_name or username,
                        "email": email,
                        "role": role,
                        "password_hash": passwords.hash_password(
                            password, passwords.Cost.of(rt.settings)
                        ),
                    },
                )
            )
    except Exception as exc:
        audit.record(
            rt.store, actor, "user.create", "error", target=username, detail={"error": str(exc)}
        )
        raise
    audit.record(rt.store, actor, "user.create", "ok", target=username, detail={"role": role})
    return user_id


def list_users(rt: Runtime, actor: Actor) -> list[User]:
    """All users (names and roles are visible to every signed-in user; no secrets)."""
    with rt.store.tx(actor.identity) as tx:
        return [User(**row) for row in tx.all("user_list")]


def get_user(rt: Runtime, actor: Actor, username: str) -> User:
    """One user by name, or NotFound."""
    for user in list_users(rt, actor):
        if user.username.lower() == username.lower():
            return user
    raise NotFound(say("msg.security.no_user", name=repr(username)))


def set_role(rt: Runtime, actor: Actor, username: str, role: str) -> None:
    """Change a user's role (admins only)."""
    actor.require("admin", say("msg.access.changing_roles"))
    _check_role(role)
    with rt.store.tx(actor.identity) as tx:
        if tx.value("user_set_role", {"username": username, "role": role}) is None:
            raise NotFound(say("msg.security.no_user", name=repr(username)))
    session_cache.forget_all()  # the new role applies from the next rerun
    audit.record(rt.store, actor, "user.set_role", "ok", target=username, detail={"role": role})


def set_disabled(rt: Runtime, actor: Actor, username: str, disabled: bool = True) -> None:
    """Disable (or re-enable) a user; a disabled user's sessions stop resolving at once."""
    actor.require("admin", say("msg.access.disabling_users"))
    if disabled and username.lower() == actor.username.lower():
        raise ValidationError(say("msg.security.disable_self"))
    with rt.store.tx(actor.identity) as tx:
        if tx.value("user_set_disabled", {"username": username, "disabled": disabled}) is None:
            raise NotFound(say("msg.security.no_user", name=repr(username)))
    session_cache.forget_all()
    audit.record(
        rt.store, actor, "user.disable" if disabled else "user.enable", "ok", target=username
    )


def unlock(rt: Runtime, actor: Actor, username: str) -> None:
    """Clear a login lockout (admins only)."""
    actor.require("admin", say("msg.access.unlocking_users"))
    get_user(rt, actor, username)
    with rt.store.tx(actor.identity) as tx:
        tx.one("user_unlock", {"username": username})
    audit.record(rt.store, actor, "user.unlock", "ok", target=username)


def set_password(
    rt: Runtime,
    actor: Actor,
    username: str,
    new_password: str,
    *,
    current_password: str | None = None,
) -> int:
    """Change a password and revoke all of that user's sessions; returns how many were live.

    A user changing their own password must give the current one; an admin may reset anyone's.
    """
    own = username.lower() == actor.username.lower()
    if not own:
        actor.require("admin", say("msg.access.reset_password"))
    target = get_user(rt, actor, username)
    passwords.check_policy(new_password, target.username)
    # Admins may reset their own password from the CLI without the old one (they own the host).
    needs_current = own and (not actor.at_least("admin") or current_password is not None)
    # The current password is checked through the throttled login path (a recorded attempt).
    if needs_current and not auth.check_current_password(
        rt.store, rt.settings, target.username, current_password or ""
    ):
        audit.record(
            rt.store,
            actor,
            "user.password",
            "refused",
            target=target.username,
            detail={"reason": "wrong current password"},
        )
        raise ValidationError(say("msg.security.wrong_password"))
    if current_password is not None and current_password == new_password:
        raise ValidationError(say("msg.security.same_password"))
    with rt.store.tx(actor.identity) as tx:
        tx.execute(
            "user_set_password",
            {
                "user_id": target.id,
                "password_hash": passwords.hash_password(
                    new_password, passwords.Cost.of(rt.settings)
                ),
            },
        )
        revoked = tx.execute("session_revoke_all", {"user_id": target.id})
    session_cache.forget_all()
    audit.record(
        rt.store,
        actor,
        "user.password",
        "ok",
        target=target.username,
        detail={"reset_by_admin": not own, "sessions_revoked": revoked},
    )
    return revoked


def revoke_sessions(rt: Runtime, actor: Actor, username: str) -> int:
    """Sign a user out everywhere (self, or admins for anyone)."""
    if username.lower() != actor.username.lower():
        actor.require("admin", say("msg.access.signing_out_another_user"))
    target = get_user(rt, actor, username)
    with rt.store.tx(actor.identity) as tx:
        revoked = tx.execute("session_revoke_all", {"user_id": target.id})
    session_cache.forget_all()
    audit.record(
        rt.store,
        actor,
        "user.sessions_revoke",
        "ok",
        target=target.username,
        detail={"sessions_revoked": revoked},
    )
    return revoked


def failed_logins(rt: Runtime, actor: Actor, username: str) -> int:
    """Failed logins counted towards the lockout of a user right now (admins)."""
    actor.require("admin", say("msg.access.reading_lockout_state"))
    with rt.store.tx(actor.identity) as tx:
        value = tx.value(
            "auth_lockout_status",
            {"username": username, "client_addr": None, **auth.gate_params(rt.settings)},
        )
    return int(value or 0)


def actor_for(rt: Runtime, username: str | None) -> Actor:
    """The CLI's actor: `--as USER`, or the first admin.

    `--as` is resolved through the admin connection, so it works even when no enabled admin is
    left (the CLI runs with the store's admin URL: whoever runs it holds the data directory).
    """
    if username:
        row = admin.user_by_name(rt.admin_url, username, names=rt.names)
        if row is None:
            raise NotFound(say("msg.security.no_user", name=repr(username)))
    else:
        identity = rt.first_admin()
        with rt.store.tx(identity) as tx:
            row = tx.one("user_first_admin")
    assert row is not None  # noqa: S101 - first_admin() proved one exists
    if row.get("disabled"):
        raise ValidationError(say("msg.security.user_disabled", name=repr(username)))
    return Actor(int(row["id"]), row["username"], row["role"], "cli")
