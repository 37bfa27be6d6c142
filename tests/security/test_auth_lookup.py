"""Issue 13: the runtime role reads a password hash only through a recorded, throttled attempt.

Hostile use as `petcare_login` (SET ROLE petcare_app, no identity), the way someone holding the
runtime credential would try it: the hash column is not granted, the old `auth_lookup` is gone,
and every read through `auth_begin` is a recorded guess that counts towards the lockout, so a
bulk read of every user's hash leaves one counted failure per user and, from one address, stops
after lockout_threshold reads of an account. The argon2 rehash on login keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from petcare_dba.errors import AuthError
from petcare_dba.services import auth
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, runtime_url
from tests.fix_db import RUNTIME_PASSWORD, USER_PASSWORD

GATE = (
    "SELECT password_hash, wait_s FROM petcare.auth_begin(%s, %s, interval '1 day', "
    "%s, 600, 900, 100, 30, 50)"
)

MakeUser = Callable[[str, str], Actor]


def _runtime_conn(meta_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(runtime_url(meta_url, RUNTIME_PASSWORD), autocommit=True)


def _as_app(
    conn: psycopg.Connection[tuple[Any, ...]], statement: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    with conn.transaction():
        conn.execute("SET LOCAL ROLE petcare_app")
        return conn.execute(statement, params).fetchall()


def test_the_hash_column_and_the_old_lookup_are_closed_to_the_runtime_role(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with _runtime_conn(meta_url) as conn:
        for statement in (
            "SELECT password_hash FROM petcare.users",
            "SELECT * FROM petcare.auth_lookup('admin')",  # before: any user's hash
            "SELECT totp_secret_enc FROM petcare.users",
            "UPDATE petcare.login_attempts SET reason = 'x'",  # cannot rewrite the trail
            "DELETE FROM petcare.login_attempts",
        ):
            with pytest.raises(psycopg.Error) as info:
                _as_app(conn, statement)
            assert info.value.sqlstate in ("42501", "42883"), statement


def test_a_bulk_read_of_every_hash_is_recorded_and_counted(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    names = [f"member{i}" for i in range(6)]
    for name in names:
        make_user(name, "viewer")
    with _runtime_conn(meta_url) as conn:
        for name in names:  # the attacker reads each user's hash once
            rows = _as_app(conn, GATE, (name, "203.0.113.1", 5))
            assert rows[0][0] is not None
        # an attempt left 'verifying' counts as a failed guess; the app's alerts see it
        with psycopg.connect(meta_url) as admin_conn:
            counted = admin_conn.execute(
                "SELECT count(*) FROM petcare.login_attempts "
                "WHERE NOT succeeded AND reason = 'verifying'"
            ).fetchone()
        assert counted == (len(names),)
        # hammering one account from one address: the hash stops coming after the free guesses
        got = [_as_app(conn, GATE, ("member0", "203.0.113.1", 5))[0] for _ in range(10)]
        assert sum(1 for h, _ in got if h is not None) == 4  # 5 free minus the read above
        assert all(h is None and w > 0 for h, w in got[4:])
        # a caller that passes absurd knobs does not switch the policy off (floors in SQL)
        absurd = (
            "SELECT password_hash FROM petcare.auth_begin('member0', '203.0.113.1', "
            "interval '1 second', 1000000, 0, 0, 1000000, 0, 1000000)"
        )
        leaked = sum(1 for _ in range(40) if _as_app(conn, absurd)[0][0] is not None)
        assert leaked <= 20 - 5 + 1, leaked  # at most 20 free guesses, then >= 0.5 s apart
    # the counted failures make the real login refuse the account from that address
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "member0", USER_PASSWORD, client_addr="203.0.113.1")
    assert auth.login(rt.store, rt.settings, "member0", USER_PASSWORD, client_addr="192.0.2.1")


def test_an_attempt_is_closed_once_and_cannot_be_reopened(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("zoe", "viewer")
    with _runtime_conn(meta_url) as conn:
        (attempt,) = _as_app(
            conn,
            "SELECT attempt_id FROM petcare.auth_begin('zoe', NULL, interval '1 day', 5, 1, 900,"
            " 100, 30, 50)",
        )[0]
        finish = "SELECT petcare.auth_finish(%s, %s, %s, interval '1 day')"
        assert _as_app(conn, finish, (attempt, False, "wrong password"))[0][0] == 1
        # a closed failure cannot be turned into a success (which would reset the pair)
        assert _as_app(conn, finish, (attempt, True, None))[0][0] is None
        assert _as_app(conn, finish, (attempt + 1000, True, None))[0][0] is None


def test_unknown_and_known_users_look_alike_and_rehash_still_works(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("lulu", "viewer")
    with _runtime_conn(meta_url) as conn:
        known = _as_app(conn, GATE, ("lulu", None, 5))
        unknown = _as_app(conn, GATE, ("nobody-here", None, 5))
    assert len(known) == len(unknown) == 1 and unknown[0][0] is None
    weak = auth._hasher.__class__(time_cost=1, memory_cost=8192, parallelism=1).hash(USER_PASSWORD)
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.users SET password_hash = %s WHERE username = 'lulu'", (weak,))
    assert auth.login(rt.store, rt.settings, "lulu", USER_PASSWORD).actor.username == "lulu"
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT password_hash FROM petcare.users WHERE username = 'lulu'"
        ).fetchone()
    assert row is not None and row[0] != weak and auth.meets_floor(row[0])
