"""Login and sessions (reliability L1-L4, L7): hashing floor, shared lockout, no enumeration,
session lifetime and revocation, TOTP second factor."""

from __future__ import annotations

import statistics
import time

import argon2
import psycopg
import pytest

from petcare_dba.errors import AuthError, ValidationError
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, auth, handoff, passwords, totp, users
from petcare_dba.settings import Settings
from tests.fix_db import USER_PASSWORD

NEW_PASSWORD = "Kv8-orchid-compass-53"


def _hash_of(meta_url: str, username: str) -> str:
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT password_hash FROM petcare.users WHERE username = %s", (username,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_stored_hashes_are_argon2id_at_least_owasp(rt: Runtime, admin, make_user, meta_url) -> None:  # type: ignore[no-untyped-def]
    make_user("olga", "viewer")
    for name in ("admin", "olga"):
        stored = _hash_of(meta_url, name)
        params = argon2.extract_parameters(stored)
        assert stored.startswith("$argon2id$")
        assert params.memory_cost >= 19456 and params.time_cost >= 2 and params.parallelism >= 1
        assert passwords.meets_floor(stored)


def test_weaker_hash_is_rejected_by_the_floor_and_rehashed_on_next_login(
    rt: Runtime, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    make_user("lena", "viewer")
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(USER_PASSWORD)
    assert not passwords.meets_floor(weak) and passwords.needs_rehash(weak)
    assert not passwords.meets_floor(argon2.PasswordHasher(type=argon2.Type.I).hash("x" * 12))
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.users SET password_hash = %s WHERE username = 'lena'", (weak,))
    auth.login(rt.store, rt.settings, "lena", USER_PASSWORD)
    stored = _hash_of(meta_url, "lena")
    cost = passwords.Cost.of(rt.settings)
    assert stored != weak and passwords.meets_floor(stored)
    assert not passwords.needs_rehash(stored, cost)
    assert auth.login(rt.store, rt.settings, "lena", USER_PASSWORD).actor.username == "lena"


def test_lockout_is_shared_across_two_replicas_and_admin_unlocks(
    rt: Runtime, admin, make_user, test_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    make_user("rita", "viewer")
    replica = Runtime.start(test_settings)
    try:
        replicas = [rt, replica]
        slow = rt.settings.with_overrides(login_delay_base_seconds=300)
        for i in range(rt.settings.lockout_threshold):
            with pytest.raises(AuthError):
                r = replicas[i % 2]
                auth.login(r.store, slow, "rita", "wrong-password-123", client_addr="10.1.0.1")
        for r in replicas:  # from the guessing address the correct password waits, on either
            with pytest.raises(AuthError) as info:
                auth.login(r.store, slow, "rita", USER_PASSWORD, client_addr="10.1.0.1")
            assert info.value.message == auth.GENERIC_FAILURE
        # issue 13: the guesses from 10.1.0.1 do not lock the owner out from another address
        assert auth.login(rt.store, slow, "rita", USER_PASSWORD, client_addr="10.1.0.2").actor
        users.unlock(rt, admin, "rita")
        assert auth.login(replica.store, slow, "rita", USER_PASSWORD, client_addr="10.1.0.1").actor
    finally:
        replica.close()


def test_client_address_is_throttled_across_usernames_and_replicas(
    rt: Runtime, make_user, test_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    make_user("sam", "viewer")
    replica = Runtime.start(test_settings)
    try:
        for i in range(rt.settings.ip_throttle_threshold):
            r = (rt, replica)[i % 2]
            with pytest.raises(AuthError):
                auth.login(
                    r.store, r.settings, f"ghost{i}", "nope-nope-nope", client_addr="10.2.0.9"
                )
        with pytest.raises(AuthError):
            auth.login(rt.store, rt.settings, "sam", USER_PASSWORD, client_addr="10.2.0.9")
        signed = auth.login(
            replica.store, rt.settings, "sam", USER_PASSWORD, client_addr="10.2.0.8"
        )
        assert signed.actor.username == "sam"
    finally:
        replica.close()


def test_unknown_user_and_wrong_password_match_in_message_and_timing(
    rt: Runtime, make_user
) -> None:  # type: ignore[no-untyped-def]
    """L3: 100 trials each, interleaved; means differ by at most 50 ms, messages identical."""
    make_user("tess", "viewer")
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    messages = set()
    for i in range(100):
        for kind, name in (("unknown", f"nobody{i}"), ("wrong", "tess")):
            started = time.perf_counter()
            with pytest.raises(AuthError) as info:
                auth.login(rt.store, rt.settings, name, f"bad-password-{i:03d}", client_addr=None)
            timings[kind].append(time.perf_counter() - started)
            messages.add(info.value.message)
    assert messages == {auth.GENERIC_FAILURE}
    difference = abs(statistics.mean(timings["unknown"]) - statistics.mean(timings["wrong"]))
    assert difference <= 0.050, f"{difference * 1000:.1f} ms"


def test_idle_and_absolute_expiry(rt: Runtime, make_user, meta_url: str) -> None:  # type: ignore[no-untyped-def]
    make_user("uma", "viewer")
    idle = auth.login(rt.store, rt.settings, "uma", USER_PASSWORD)
    old = auth.login(rt.store, rt.settings, "uma", USER_PASSWORD)
    fresh = auth.login(rt.store, rt.settings, "uma", USER_PASSWORD)
    idle_min = int(rt.settings.session_idle_minutes)
    with psycopg.connect(meta_url) as conn:
        hours = conn.execute(
            "SELECT extract(epoch FROM expires_at - created_at) / 3600 FROM petcare.sessions "
            "WHERE id = %s",
            (int(fresh.actor.session_id[1:]),),
        ).fetchone()
        assert hours is not None and round(float(hours[0])) == rt.settings.session_absolute_hours
        conn.execute(
            "UPDATE petcare.sessions SET last_seen_at = now() - make_interval(mins => %s + 1) "
            "WHERE id = %s",
            (idle_min, int(idle.actor.session_id[1:])),
        )
        conn.execute(
            "UPDATE petcare.sessions SET expires_at = now() - interval '1 second' WHERE id = %s",
            (int(old.actor.session_id[1:]),),
        )
    assert auth.resolve(rt.store, rt.settings, idle.token) is None
    assert auth.resolve(rt.store, rt.settings, old.token) is None
    assert auth.resolve(rt.store, rt.settings, fresh.token) is not None


def test_password_change_revokes_every_session_and_policy_applies(
    rt: Runtime, admin, make_user
) -> None:  # type: ignore[no-untyped-def]
    vera = make_user("vera", "analyst")
    first = auth.login(rt.store, rt.settings, "vera", USER_PASSWORD)
    second = auth.login(rt.store, rt.settings, "vera", USER_PASSWORD)
    with pytest.raises(ValidationError, match="current password"):
        users.set_password(rt, first.actor, "vera", NEW_PASSWORD, current_password="wrong-one-12")
    with pytest.raises(ValidationError):
        users.set_password(rt, first.actor, "vera", "short", current_password=USER_PASSWORD)
    with pytest.raises(ValidationError, match="differ"):
        users.set_password(rt, first.actor, "vera", USER_PASSWORD, current_password=USER_PASSWORD)
    from petcare_dba.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        users.set_password(rt, vera, "admin", NEW_PASSWORD)
    revoked = users.set_password(
        rt, first.actor, "vera", NEW_PASSWORD, current_password=USER_PASSWORD
    )
    assert revoked == 2
    for signed in (first, second):
        assert auth.resolve(rt.store, rt.settings, signed.token) is None
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "vera", USER_PASSWORD)
    assert auth.login(rt.store, rt.settings, "vera", NEW_PASSWORD).actor.username == "vera"
    # an admin reset needs no current password and also ends the sessions
    again = auth.login(rt.store, rt.settings, "vera", NEW_PASSWORD)
    users.set_password(rt, admin, "vera", USER_PASSWORD)
    assert auth.resolve(rt.store, rt.settings, again.token) is None
    actions = {e.action for e in audit.search(rt.store, admin, action="user.password")}
    assert actions == {"user.password"}


def test_logout_revokes_so_a_replayed_token_fails(rt: Runtime, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("walt", "viewer")
    signed = auth.login(rt.store, rt.settings, "walt", USER_PASSWORD)
    auth.logout(rt.store, signed.actor)
    assert auth.resolve(rt.store, rt.settings, signed.token) is None
    assert not auth.revoke_token(rt.store, signed.token)


def test_totp_is_required_single_use_and_throttled_like_passwords(
    rt: Runtime, admin, make_user
) -> None:  # type: ignore[no-untyped-def]
    make_user("xena", "viewer")
    enrolment = totp.enable(rt, admin, "xena")
    assert enrolment.uri.startswith("otpauth://totp/")
    login = {"keyring": rt.keyring}
    with pytest.raises(AuthError):  # a correct password alone grants nothing
        auth.login(rt.store, rt.settings, "xena", USER_PASSWORD, **login)
    code = totp.code_for(enrolment.secret)
    signed = auth.login(rt.store, rt.settings, "xena", USER_PASSWORD, totp_code=code, **login)
    assert signed.actor.username == "xena"
    with pytest.raises(AuthError):  # the same code cannot be replayed
        auth.login(rt.store, rt.settings, "xena", USER_PASSWORD, totp_code=code, **login)
    for guess in range(rt.settings.lockout_threshold):
        with pytest.raises(AuthError):
            auth.login(
                rt.store, rt.settings, "xena", USER_PASSWORD, totp_code=f"{guess:06d}", **login
            )
    later = totp.code_for(enrolment.secret, time.time() + 30)
    with pytest.raises(AuthError):  # locked: even a valid fresh code is refused now
        auth.login(rt.store, rt.settings, "xena", USER_PASSWORD, totp_code=later, **login)
    reasons = [
        e.detail.get("reason")
        for e in audit.search(rt.store, admin, action="login", username="xena")
    ]
    assert "wrong totp" in reasons and "locked" in reasons
    totp.disable(rt, admin, "xena")
    users.unlock(rt, admin, "xena")
    assert auth.login(rt.store, rt.settings, "xena", USER_PASSWORD).actor.username == "xena"


def test_session_handoff_code_is_single_use_and_short_lived(
    rt: Runtime, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    make_user("yara", "viewer")
    signed = auth.login(rt.store, rt.settings, "yara", USER_PASSWORD)
    nonce = "n" * 43  # the browser's pre-auth cookie (issue 14: codes are bound to it)
    code = handoff.create_handoff(rt.store, rt.keyring, signed.actor, signed.token, nonce)
    with psycopg.connect(meta_url) as conn:
        (stored,) = conn.execute("SELECT token_enc FROM petcare.session_handoffs").fetchone()
    assert signed.token.encode() not in bytes(stored)
    assert handoff.take_handoff(rt.store, rt.settings, rt.keyring, code, nonce) == signed.token
    assert handoff.take_handoff(rt.store, rt.settings, rt.keyring, code, nonce) is None
    expired = handoff.create_handoff(rt.store, rt.keyring, signed.actor, signed.token, nonce)
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.session_handoffs SET expires_at = now() - interval '1 s'")
    assert handoff.take_handoff(rt.store, rt.settings, rt.keyring, expired, nonce) is None
    revoked = handoff.create_handoff(rt.store, rt.keyring, signed.actor, signed.token, nonce)
    auth.logout(rt.store, signed.actor)
    assert handoff.take_handoff(rt.store, rt.settings, rt.keyring, revoked, nonce) is None


def test_oidc_identity_maps_to_an_app_user_and_unknown_identities_get_nothing(
    rt: Runtime, admin, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    from petcare_dba.services.security import oidc

    make_user("zoe", "analyst")
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.users SET email = 'zoe@example.org' WHERE username = 'zoe'")
    with pytest.raises(AuthError):  # unverified e-mail: no mapping
        oidc.login(rt.store, rt.settings, "sub-zoe", "zoe@example.org", email_verified=False)
    signed = oidc.login(rt.store, rt.settings, "sub-zoe", "zoe@example.org", email_verified=True)
    assert (signed.actor.username, signed.actor.role) == ("zoe", "analyst")
    # the subject is now bound: it maps without the e-mail, and another subject with the same
    # e-mail does not take the account over
    assert oidc.login(rt.store, rt.settings, "sub-zoe", None).actor.username == "zoe"
    with pytest.raises(AuthError):
        oidc.login(rt.store, rt.settings, "sub-evil", "zoe@example.org", email_verified=True)
    with pytest.raises(AuthError):
        oidc.login(rt.store, rt.settings, "sub-nobody", "nobody@example.org", email_verified=True)
    refused = audit.search(rt.store, admin, action="login.oidc", outcome="refused")
    assert len(refused) == 3
