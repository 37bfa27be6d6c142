"""The argon2id cost is a setting (`password_hash_*`), never below OWASP's floor (reliability L1).

The rest of the suite runs at the floor (tests/fix_db.py); these tests hold the default cost, a
change of cost (stored hashes follow at their next sign-in), the floor as a hard limit, and the
unknown-user dummy at the deployment's cost (L3: the same work as a wrong password).
"""

from __future__ import annotations

import argon2
import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.errors import ConfigError, ValidationError
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth, passwords, users
from tests.fix_db import USER_PASSWORD

DEFAULT = {"password_hash_memory_kib": 65536, "password_hash_time_cost": 3}


def _stored(meta_url: str, username: str) -> argon2.Parameters:
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT password_hash FROM petcare.users WHERE username = %s", (username,)
        ).fetchone()
    assert row is not None
    return argon2.extract_parameters(str(row[0]))


def test_the_default_cost_is_argon2_cffis_and_new_hashes_carry_it(
    test_settings: settings_mod.Settings, meta_url: str
) -> None:
    defaults = settings_mod.load(env={})
    assert passwords.Cost.of(defaults) == passwords.Cost(65536, 3, 4) == passwords.DEFAULT
    settings = test_settings.with_overrides(**DEFAULT, password_hash_parallelism=4)
    rt = Runtime.start(settings)
    try:
        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        users.add_user(rt, admin, "dora", "viewer", USER_PASSWORD)
    finally:
        rt.close()
    for name in ("admin", "dora"):
        params = _stored(meta_url, name)
        assert (params.memory_cost, params.time_cost, params.parallelism) == (65536, 3, 4)


def test_a_new_cost_reaches_stored_hashes_at_their_next_sign_in(
    rt: Runtime, make_user, test_settings: settings_mod.Settings, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    make_user("ivo", "viewer")
    floor = _stored(meta_url, "ivo")
    assert (floor.memory_cost, floor.time_cost, floor.parallelism) == (19456, 2, 1)
    raised = test_settings.with_overrides(
        password_hash_memory_kib=32768, password_hash_time_cost=3, password_hash_parallelism=2
    )
    other = Runtime.start(raised)
    try:
        assert auth.login(other.store, raised, "ivo", USER_PASSWORD).actor.username == "ivo"
        now = _stored(meta_url, "ivo")
        assert (now.memory_cost, now.time_cost, now.parallelism) == (32768, 3, 2)
        # The old cost's instance still signs the user in (it verifies with the stored
        # parameters) and, its own cost being different, rehashes back: the last one wins.
        assert auth.login(rt.store, rt.settings, "ivo", USER_PASSWORD).actor.username == "ivo"
        assert _stored(meta_url, "ivo").memory_cost == 19456
    finally:
        other.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("password_hash_memory_kib", "19455"),
        ("password_hash_memory_kib", "-1"),
        ("password_hash_time_cost", "1"),
        ("password_hash_parallelism", "0"),
        ("password_hash_memory_kib", "lots"),
    ],
)
def test_a_cost_below_the_floor_is_refused_when_the_settings_load(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_mod.load(env={"PETCARE_" + name.upper(): value})
    assert "PETCARE_" + name.upper() in caught.value.message


def test_the_hasher_itself_refuses_a_cost_below_the_floor() -> None:
    with pytest.raises(ValidationError, match="OWASP"):
        passwords.hash_password("a-long-password-1", passwords.Cost(8192, 1, 1))
    with pytest.raises(ValidationError, match="OWASP"):
        passwords.dummy_prefix(passwords.Cost(19456, 1, 1))


def test_the_unknown_user_dummy_costs_what_a_stored_hash_costs() -> None:
    for cost in (passwords.DEFAULT, passwords.Cost(19456, 2, 1), passwords.Cost(32768, 4, 2)):
        prefix = passwords.dummy_prefix(cost)
        assert prefix is not None
        params, salt = prefix
        assert params == passwords.current_parameters(cost) and len(salt) == 16
        made = argon2.extract_parameters(passwords.hash_password("a-long-password-1", cost))
        assert made == params
        assert not passwords.verify_password(None, "a-long-password-1", cost)
