"""Issue 13: the argon2 digest of a password never leaves the database.

Hostile use as `petcare_login` (SET ROLE petcare_app, with or without a claimed identity), the
way someone holding the runtime credential would try it: the hash column is not granted, the old
`auth_lookup` is gone, no function the runtime role may execute returns a stored digest,
`auth_begin` gives only parameters and salt (a stable, real-looking fake for an unknown
username), and `auth_verify` compares a digest inside the database and closes the attempt once.
Every attempt is a recorded guess that counts towards the lockout. Login, the second factor, the
rehash of a weak hash and the password change keep working.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import argon2
import psycopg
import pytest
from psycopg import sql

from petcare_dba.errors import AuthError
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, runtime_url
from petcare_dba.services.security import auth, hash_prefix, passwords, users
from tests.fix_db import RUNTIME_PASSWORD, USER_PASSWORD

BEGIN = (
    "SELECT attempt_id, wait_s, hash_prefix, hash_len FROM petcare.auth_begin(%s, %s, "
    "interval '1 day', %s, 600, 900, 100, 30, 50)"
)
VERIFY = "SELECT * FROM petcare.auth_verify(%s, %s, interval '1 day')"
FINISH = "SELECT petcare.auth_finish(%s, %s, %s, interval '1 day')"

MakeUser = Callable[[str, str], Actor]


def _runtime_conn(meta_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(runtime_url(meta_url, RUNTIME_PASSWORD), autocommit=True)


def _as_app(
    conn: psycopg.Connection[tuple[Any, ...]], statement: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    with conn.transaction():
        conn.execute("SET LOCAL ROLE petcare_app")
        return conn.execute(statement, params).fetchall()


def _begin(conn: psycopg.Connection[tuple[Any, ...]], name: str, free: int = 5) -> tuple[Any, ...]:
    return _as_app(conn, BEGIN, (name, None, free))[0]


def _stored(meta_url: str, name: str) -> str:
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT password_hash FROM petcare.users WHERE username = %s", (name,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def _reason(meta_url: str, attempt: int) -> tuple[Any, ...] | None:
    with psycopg.connect(meta_url) as conn:
        return conn.execute(
            "SELECT succeeded, reason FROM petcare.login_attempts WHERE id = %s", (attempt,)
        ).fetchone()


def _digest_for(prefix: str, hash_len: int, password: str) -> str:
    parsed = hash_prefix.parse(prefix, hash_len)
    assert parsed is not None, prefix
    return hash_prefix.digest(*parsed, password)


def test_the_hash_column_and_the_old_lookups_are_closed_to_the_runtime_role(
    rt: Runtime, admin: Actor, meta_url: str
) -> None:
    with _runtime_conn(meta_url) as conn:
        for statement in (
            "SELECT password_hash FROM petcare.users",
            "SELECT * FROM petcare.auth_lookup('admin')",  # 0004: any user's hash
            "SELECT totp_secret_enc FROM petcare.users",
            "UPDATE petcare.login_attempts SET reason = 'x'",  # cannot rewrite the trail
            "DELETE FROM petcare.login_attempts",
            # a forged open attempt would let auth_verify check guesses without the gate
            "INSERT INTO petcare.login_attempts (username, succeeded, reason) "
            "VALUES ('admin', false, 'verifying')",
            "SELECT secret FROM petcare.auth_install_secret",  # the fake salts' secret
            "SELECT * FROM petcare.auth_hash_prefix('admin')",  # only through auth_begin
            "SELECT petcare.auth_pair_guesses('admin', NULL, interval '1 day')",
        ):
            with pytest.raises(psycopg.Error) as info:
                _as_app(conn, statement)
            assert info.value.sqlstate in ("42501", "42883"), statement


_ARGS: dict[str, Callable[[str, int], Any]] = {
    "text": lambda name, uid: name,
    "character varying": lambda name, uid: name,
    "bigint": lambda name, uid: uid,
    "integer": lambda name, uid: uid,
    "smallint": lambda name, uid: 1,
    "boolean": lambda name, uid: True,
    "interval": lambda name, uid: "1 day",
    "double precision": lambda name, uid: 1.0,
    "numeric": lambda name, uid: 1,
    "bytea": lambda name, uid: b"\x00",
    "timestamp with time zone": lambda name, uid: "2026-01-01",
    "jsonb": lambda name, uid: "{}",
    "text[]": lambda name, uid: [name],
    "bigint[]": lambda name, uid: [uid],
}


def test_no_function_the_runtime_role_may_execute_returns_a_digest(
    rt: Runtime, admin: Actor, make_user: MakeUser, meta_url: str
) -> None:
    """Call every function in the petcare schema that petcare_app may EXECUTE, with each user's
    name and id for its arguments, with and without a claimed (admin) identity: no cell of any
    result carries a stored digest or a whole hash."""
    make_user("lulu", "viewer")
    with psycopg.connect(meta_url) as conn:
        known = conn.execute(
            "SELECT id, username, password_hash FROM petcare.users WHERE password_hash IS NOT NULL"
        ).fetchall()
        functions = conn.execute(
            "SELECT p.proname, array_agg(format_type(t.type, NULL) ORDER BY t.n) "
            "FILTER (WHERE t.type IS NOT NULL), p.prosrc ~* 'users|auth_' "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(type, n) ON true "
            "WHERE n.nspname = 'petcare' AND p.prokind = 'f' "
            "AND p.prorettype <> 'trigger'::regtype "
            "AND has_function_privilege('petcare_app', p.oid, 'EXECUTE') "
            "GROUP BY p.oid, p.proname, p.prosrc"
        ).fetchall()
    secrets = [h.rsplit("$", 1)[1] for _, _, h in known] + [h for _, _, h in known]
    assert len(known) >= 2 and all(len(s) >= 40 for s in secrets)
    called: set[str] = set()
    touching = {name for name, _, uses in functions if uses}
    assert {"auth_begin", "auth_verify", "auth_totp", "auth_oidc_lookup"} <= touching
    with _runtime_conn(meta_url) as conn:
        for name, types, _ in functions:
            types = types or []
            if any(t not in _ARGS for t in types):
                continue
            for uid, username, _ in known:
                for identity in ("", str(admin.user_id)):
                    args = [_ARGS[t](username, uid) for t in types]
                    call = sql.SQL("SELECT * FROM petcare.{}({})").format(
                        sql.Identifier(name),
                        sql.SQL(", ").join(
                            sql.SQL("%s::{}").format(sql.SQL(t))
                            for t in types  # catalog text
                        ),
                    )
                    try:
                        with conn.transaction(force_rollback=True):
                            conn.execute("SET LOCAL ROLE petcare_app")
                            conn.execute("SELECT set_config('app.user_id', %s, true)", (identity,))
                            rows = conn.execute(call, args).fetchall()
                    except psycopg.Error:
                        continue
                    called.add(name)
                    text = repr(rows)
                    assert not any(s in text for s in secrets), (name, identity)
    assert {"auth_begin", "auth_verify", "auth_gate"} <= called, called
    assert len(called & touching) >= 5, called & touching


def test_the_prefix_of_an_unknown_user_is_stable_and_looks_like_a_real_one(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("lulu", "viewer")
    make_user("mira", "viewer")
    stored = _stored(meta_url, "lulu")
    with _runtime_conn(meta_url) as conn:
        known = _begin(conn, "lulu")
        again = _begin(conn, "nobody-here")
        unknown = _begin(conn, "nobody-here")
        shouted = _begin(conn, "NOBODY-HERE")
        other = _begin(conn, "someone-else")
        with conn.transaction():
            conn.execute("SET LOCAL ROLE petcare_app")
            columns = [c.name for c in conn.execute(BEGIN, ("x", None, 5)).description or []]
    # exactly the stored hash without its digest
    assert known[2] + "$" + stored.rsplit("$", 1)[1] == stored
    assert known[3] == 32 and stored.rsplit("$", 1)[1] not in known[2]
    # stable per username (case-insensitive like usernames), different across usernames
    assert unknown[2:] == again[2:] == shouted[2:] and other[2] != unknown[2]
    # same shape: same type, version and parameters as real hashes, same salt length, same length
    assert unknown[2].rsplit("$", 1)[0] == known[2].rsplit("$", 1)[0]
    assert len(unknown[2]) == len(known[2]) and unknown[3] == known[3]
    assert len(base64.b64decode(unknown[2].rsplit("$", 1)[1] + "==")) == 16
    assert columns == ["attempt_id", "wait_s", "hash_prefix", "hash_len"]
    # the fake salt is no real user's salt, and no known user's prefix names an id
    assert unknown[2] not in (known[2], _stored(meta_url, "mira").rsplit("$", 1)[0])


def test_a_wrong_digest_fails_counts_and_says_nothing_about_the_user(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("lulu", "viewer")
    with _runtime_conn(meta_url) as conn:
        attempt, _, prefix, hash_len = _begin(conn, "lulu")
        wrong = _digest_for(prefix, hash_len, "not-the-password-1")
        known = _as_app(conn, VERIFY, (attempt, wrong))[0]
        ghost_attempt, _, ghost_prefix, ghost_len = _begin(conn, "nobody-here")
        ghost = _as_app(conn, VERIFY, (ghost_attempt, _digest_for(ghost_prefix, ghost_len, "x")))
        # garbage digests: empty, NULL, oversized, the stored prefix itself
        junk = []
        for digest in ("", None, "A" * 100_000, prefix):
            junk_attempt = _begin(conn, "lulu", 50)[0]
            junk.append(_as_app(conn, VERIFY, (junk_attempt, digest))[0])
    assert known == (False, 1, False, None, None, None, None, None, None)
    assert ghost[0] == (False, 1, False, None, None, None, None, None, None)
    assert all(row[0] is False and row[3] is None for row in junk)
    assert _reason(meta_url, attempt) == (False, "wrong password")
    assert _reason(meta_url, ghost_attempt) == (False, "unknown user")
    # the guesses count for the real login: five wrong, then the pair is delayed
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "lulu", USER_PASSWORD)


def test_a_verified_attempt_cannot_be_verified_again_nor_reopened(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("zoe", "viewer")
    with _runtime_conn(meta_url) as conn:
        attempt, _, prefix, hash_len = _begin(conn, "zoe")
        right = _digest_for(prefix, hash_len, USER_PASSWORD)
        first = _as_app(conn, VERIFY, (attempt, right))[0]
        assert first[0] is True and first[4] == "zoe" and first[5] == "viewer"
        assert _reason(meta_url, attempt) == (True, None)
        again = _as_app(conn, VERIFY, (attempt, right))[0]
        assert again[0] is False and again[1] is None  # closed: no second verdict, no count
        # auth_finish cannot touch a closed attempt, nor record a success without a digest
        assert _as_app(conn, FINISH, (attempt, False, "wrong password"))[0][0] is None
        fresh = _begin(conn, "zoe")[0]
        assert _as_app(conn, FINISH, (fresh, True, None))[0][0] is None
        assert _reason(meta_url, fresh) == (False, "verifying")
        assert _as_app(conn, VERIFY, (fresh + 1000, right))[0][0] is False
        # a wrong-then-right pair on one attempt: the first verdict closes it
        closed = _begin(conn, "zoe")[0]
        assert _as_app(conn, VERIFY, (closed, "x"))[0][0] is False
        assert _as_app(conn, VERIFY, (closed, right))[0][0] is False
        # an attempt recorded as 'locked' (a delay ran) is never verified
        for _ in range(6):
            locked = _as_app(conn, BEGIN, ("zoe", "203.0.113.9", 1))[0]
            _as_app(conn, VERIFY, (locked[0], "x"))
        assert locked[1] > 0 and locked[2] is None
        assert _as_app(conn, VERIFY, (locked[0], right))[0][0] is False


def test_a_digest_replayed_for_another_users_attempt_fails(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    make_user("lulu", "viewer")
    make_user("mira", "admin")  # the same password, another salt
    with _runtime_conn(meta_url) as conn:
        attempt, _, prefix, hash_len = _begin(conn, "lulu")
        lulu_digest = _digest_for(prefix, hash_len, USER_PASSWORD)
        assert _as_app(conn, VERIFY, (attempt, lulu_digest))[0][0] is True
        mira_attempt = _begin(conn, "mira")[0]
        assert _as_app(conn, VERIFY, (mira_attempt, lulu_digest))[0][0] is False
        assert _reason(meta_url, mira_attempt) == (False, "wrong password")


def test_disabled_and_second_factor_users_get_the_right_state(
    rt: Runtime, admin: Actor, make_user: MakeUser, meta_url: str
) -> None:
    make_user("dora", "viewer")
    make_user("tess", "viewer")
    users.set_disabled(rt, admin, "dora", True)
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.users SET totp_enabled = true WHERE username = 'tess'")
    with _runtime_conn(meta_url) as conn:
        attempt, _, prefix, hash_len = _begin(conn, "dora")
        row = _as_app(conn, VERIFY, (attempt, _digest_for(prefix, hash_len, USER_PASSWORD)))[0]
        assert row[0] is True and row[6] is True
        assert _reason(meta_url, attempt) == (False, "disabled")
        attempt, _, prefix, hash_len = _begin(conn, "tess")
        row = _as_app(conn, VERIFY, (attempt, _digest_for(prefix, hash_len, USER_PASSWORD)))[0]
        assert row[0] is True and row[2] is True  # pending: still a counted guess
        assert _reason(meta_url, attempt) == (False, "second factor")
        assert _as_app(conn, FINISH, (attempt, False, "second factor"))[0][0] is None
        assert _as_app(conn, FINISH, (attempt, False, None))[0][0] is None
        assert _as_app(conn, FINISH, (attempt, True, None))[0][0] == 0
        assert _as_app(conn, FINISH, (attempt, False, "wrong totp"))[0][0] is None
    assert _reason(meta_url, attempt) == (True, None)
    with pytest.raises(AuthError):  # the real login still asks for the code
        auth.login(rt.store, rt.settings, "tess", USER_PASSWORD)


def test_a_bulk_read_is_recorded_counted_and_throttled(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    names = [f"member{i}" for i in range(6)]
    for name in names:
        make_user(name, "viewer")
    with _runtime_conn(meta_url) as conn:
        for name in names:
            assert _as_app(conn, BEGIN, (name, "203.0.113.1", 5))[0][2] is not None
        with psycopg.connect(meta_url) as admin_conn:
            counted = admin_conn.execute(
                "SELECT count(*) FROM petcare.login_attempts "
                "WHERE NOT succeeded AND reason = 'verifying'"
            ).fetchone()
        assert counted == (len(names),)
        got = [_as_app(conn, BEGIN, ("member0", "203.0.113.1", 5))[0] for _ in range(10)]
        assert sum(1 for row in got if row[2] is not None) == 4  # 5 free minus the read above
        assert all(row[2] is None and row[1] > 0 for row in got[4:])
        absurd = (
            "SELECT hash_prefix FROM petcare.auth_begin('member0', '203.0.113.1', "
            "interval '1 second', 1000000, 0, 0, 1000000, 0, 1000000)"
        )
        leaked = sum(1 for _ in range(40) if _as_app(conn, absurd)[0][0] is not None)
        assert leaked <= 20 - 5 + 1, leaked
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "member0", USER_PASSWORD, client_addr="203.0.113.1")
    assert auth.login(rt.store, rt.settings, "member0", USER_PASSWORD, client_addr="192.0.2.1")


def test_a_weak_hash_is_rehashed_on_login_and_the_password_change_checks_in_the_database(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    lulu = make_user("lulu", "viewer")
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(USER_PASSWORD)
    with psycopg.connect(meta_url) as conn:
        conn.execute("UPDATE petcare.users SET password_hash = %s WHERE username = 'lulu'", (weak,))
    assert auth.login(rt.store, rt.settings, "lulu", USER_PASSWORD).actor.username == "lulu"
    strong = _stored(meta_url, "lulu")
    cost = passwords.Cost.of(rt.settings)
    assert strong != weak and passwords.meets_floor(strong)
    assert not passwords.needs_rehash(strong, cost)
    auth.login(rt.store, rt.settings, "lulu", USER_PASSWORD)
    assert _stored(meta_url, "lulu") == strong  # current parameters: no second rehash
    assert not auth.check_current_password(rt.store, rt.settings, "lulu", "not-the-password-1")
    assert auth.check_current_password(rt.store, rt.settings, "lulu", USER_PASSWORD)
    users.set_password(rt, lulu, "lulu", "Another-long-pass-42", current_password=USER_PASSWORD)
    assert auth.login(rt.store, rt.settings, "lulu", "Another-long-pass-42")
    with pytest.raises(AuthError):
        auth.login(rt.store, rt.settings, "lulu", USER_PASSWORD)


@pytest.mark.parametrize(
    ("prefix", "hash_len"),
    [
        (None, 32),
        ("", 32),
        ("$argon2id$v=19$m=65536,t=3,p=4", 32),  # no salt
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$extra", 32),
        ("$bcrypt$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=99999999999,t=3,p=4$c2FsdHNhbHRzYWx0", 32),  # memory bomb
        ("$argon2id$v=19$m=65536,t=100000,p=4$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=65536,t=3,p=0$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=65536,t=3,p=4,x=1$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=65536,t=3$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=65536,t=3,p=4$not base64!", 32),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA", 32),  # 4-byte salt
        ("$argon2id$v=7$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0", 32),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0", 0),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0", 10**6),
    ],
)
def test_a_malformed_prefix_is_refused(prefix: str | None, hash_len: int) -> None:
    assert hash_prefix.parse(prefix, hash_len) is None


def test_the_digest_matches_what_argon2_stores() -> None:
    for hasher in (
        argon2.PasswordHasher(),
        argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=argon2.Type.I),
        argon2.PasswordHasher(hash_len=16, salt_len=32),
    ):
        secret = "pässwörd \u2603 1234"
        prefix, digest = hasher.hash(secret).rsplit("$", 1)
        hash_len = len(base64.b64decode(digest + "=="))
        assert _digest_for(prefix, hash_len, secret) == digest
    parsed = hash_prefix.parse(prefix, 16)
    assert parsed is not None and hash_prefix.digest(*parsed, "\ud800") != digest
