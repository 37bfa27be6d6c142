"""Sign-in, sessions, lockout and the generic failure message (reliability L1-L4 basics)."""

from __future__ import annotations

import pytest

from petcare_dba.errors import AuthError
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth, passwords, users
from tests.fix_db import USER_PASSWORD


def test_login_creates_a_session_that_resolves_and_logout_revokes_it(
    rt: Runtime, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("ana", "analyst")
    signed = auth.login(rt.store, rt.settings, "ANA", USER_PASSWORD, client_addr="10.0.0.1")
    assert signed.actor.username == "ana" and signed.actor.role == "analyst"
    assert len(signed.token) >= 43  # 256 bits, url-safe base64
    resolved = auth.resolve(rt.store, rt.settings, signed.token)
    assert resolved is not None and resolved.user_id == signed.actor.user_id
    auth.logout(rt.store, signed.actor)
    assert auth.resolve(rt.store, rt.settings, signed.token) is None


def test_hashes_are_argon2id(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    assert passwords.hash_password("whatever-password").startswith("$argon2id$")


def test_unknown_user_and_wrong_password_get_the_same_message(rt: Runtime, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("bob", "viewer")
    messages = set()
    for name, password in (("bob", "wrong-password-123"), ("nobody", "wrong-password-123")):
        with pytest.raises(AuthError) as info:
            auth.login(rt.store, rt.settings, name, password)
        messages.add(info.value.message)
    assert messages == {auth.GENERIC_FAILURE}


def test_lockout_after_threshold_even_with_correct_password_and_unlock(
    rt: Runtime, admin, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("carol", "viewer")
    for _ in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            auth.login(rt.store, rt.settings, "carol", "wrong-password-123")
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "carol", USER_PASSWORD)
    users.unlock(rt, admin, "carol")
    assert auth.login(rt.store, rt.settings, "carol", USER_PASSWORD).actor.username == "carol"
    refused = audit.recent(rt.store, admin, action="login", outcome="refused")
    assert len(refused) == rt.settings.lockout_threshold + 1


def test_disabled_user_cannot_sign_in_and_sessions_stop_resolving(
    rt: Runtime, admin, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("dave", "viewer")
    signed = auth.login(rt.store, rt.settings, "dave", USER_PASSWORD)
    users.set_disabled(rt, admin, "dave")
    assert auth.resolve(rt.store, rt.settings, signed.token) is None
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "dave", USER_PASSWORD)


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaaaaaa", "erin-is-my-name-ok"])
def test_password_policy(password: str) -> None:
    from petcare_dba.errors import ValidationError

    with pytest.raises(ValidationError):
        passwords.check_policy(password, "erin")
