"""Issue 13: nobody can lock everyone out, and guessing stays slow.

Both sides of the lockout policy, against the real counters in the metadata store (real time with
small settings): an attacker guessing from one address cannot stop the owner signing in from
another; "no client address" is no shared bucket; an attacker's evaluated guesses over a window
are bounded; and the client address believes forwarding headers only from trusted proxies.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from petcare_dba.errors import AuthError, ConfigError
from petcare_dba.services import client_address
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import auth, users
from petcare_dba.settings import Settings
from tests.fix_db import USER_PASSWORD

WRONG = "wrong-password-123"


MakeUser = Callable[[str, str], Actor]


def _guesses(meta_url: str, username: str, reason: str) -> int:
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM petcare.login_attempts WHERE username = %s AND reason = %s",
            (username, reason),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _fail(
    rt: Runtime, settings: Settings, name: str, addr: str | None, password: str = WRONG
) -> None:
    with pytest.raises(AuthError):
        auth.login(rt.store, settings, name, password, client_addr=addr)


def test_an_attacker_from_one_address_cannot_stop_the_owner_from_another(
    rt: Runtime, make_user: MakeUser
) -> None:
    make_user("olga", "admin")
    # a long delay, so the attacker's address stays blocked for the whole test
    settings = rt.settings.with_overrides(login_delay_base_seconds=600)
    for _ in range(settings.lockout_threshold + 5):
        _fail(rt, settings, "olga", "203.0.113.7")
    _fail(rt, settings, "olga", "203.0.113.7", USER_PASSWORD)  # even the right password waits
    signed = auth.login(rt.store, settings, "olga", USER_PASSWORD, client_addr="198.51.100.4")
    assert signed.actor.username == "olga"
    # and the owner's success does not reset the attacker's delay
    _fail(rt, settings, "olga", "203.0.113.7", USER_PASSWORD)


def test_without_a_client_address_there_is_no_shared_address_bucket(
    rt: Runtime, make_user: MakeUser
) -> None:
    """Before: 'no address' was one address; ip_throttle_threshold failures by anyone (other
    accounts) blocked every address-less login."""
    make_user("nora", "viewer")
    settings = rt.settings.with_overrides(ip_throttle_threshold=5)
    for i in range(8):
        _fail(rt, settings, f"ghost{i}", None)
    assert auth.login(rt.store, settings, "nora", USER_PASSWORD).actor.username == "nora"
    # a real address is still throttled across accounts
    for i in range(5):
        _fail(rt, settings, f"spray{i}", "192.0.2.50")
    _fail(rt, settings, "nora", "192.0.2.50", USER_PASSWORD)


def test_many_addresses_slow_the_account_but_a_known_address_still_signs_in(
    rt: Runtime, make_user: MakeUser
) -> None:
    make_user("pia", "viewer")
    settings = rt.settings.with_overrides(
        login_account_ceiling=4, login_account_slow_seconds=5, login_delay_base_seconds=600
    )
    auth.login(rt.store, settings, "pia", USER_PASSWORD, client_addr="198.51.100.9")  # known
    for i in range(6):  # a botnet: one guess per address
        _fail(rt, settings, "pia", f"203.0.113.{i + 1}")

    def wait_s(addr: str) -> float:
        params = {"username": "pia", "client_addr": addr, **auth.gate_params(settings)}
        with rt.store.tx() as tx:
            row = tx.one("auth_gate", params)
        assert row is not None
        return float(row["wait_s"])

    slowed = wait_s("192.0.2.77")
    assert 0 < slowed <= 5  # a new address is slowed (the attempt would be refused now) ...
    assert wait_s("198.51.100.9") == 0  # ... the owner's usual address is not
    signed = auth.login(rt.store, settings, "pia", USER_PASSWORD, client_addr="198.51.100.9")
    assert signed.actor.username == "pia"
    time.sleep(slowed + 0.3)  # slowed, not blocked: then the new address is evaluated
    assert auth.login(rt.store, settings, "pia", USER_PASSWORD, client_addr="192.0.2.77").actor


def test_the_attackers_guess_rate_is_bounded(
    rt: Runtime, make_user: MakeUser, meta_url: str
) -> None:
    """Hammer one account from one address for a fixed window through the login path's own
    gate (auth_begin / auth_verify, what even a caller that skips argon2 must go through): the
    guesses that get the hash prefix follow the schedule (3 free, then 1 s, then one per 2 s
    cap)."""
    make_user("quin", "viewer")
    settings = rt.settings.with_overrides(
        lockout_threshold=3, login_delay_base_seconds=1, login_delay_max_seconds=2
    )
    params = {"username": "quin", "client_addr": "203.0.113.99", **auth.gate_params(settings)}
    window_s = 6.0
    attempts = granted = 0
    started = time.monotonic()
    while time.monotonic() - started < window_s:
        with rt.store.tx() as tx:
            row = tx.one("auth_begin", params)
            assert row is not None
            attempts += 1
            if row["hash_prefix"] is not None:
                granted += 1
                tx.one(
                    "auth_verify",
                    {
                        "attempt_id": row["attempt_id"],
                        "digest": "not-the-digest",
                        "window_min": params["window_min"],
                    },
                )
    elapsed = time.monotonic() - started
    # 3 free, one after 1 s, then one per 2 s (each delay counts from the previous guess)
    bound = 3 + 1 + int((elapsed - 1) / 2) + 1
    assert granted == _guesses(meta_url, "quin", "wrong password")
    assert attempts - granted == _guesses(meta_url, "quin", "locked")
    assert attempts > 10 * bound, attempts  # the gate, not the client's speed, set the pace
    assert 4 <= granted <= bound, (granted, bound, elapsed)


def test_an_admin_unlock_ends_the_delay(rt: Runtime, admin: Actor, make_user: MakeUser) -> None:
    make_user("rosa", "viewer")
    settings = rt.settings.with_overrides(login_delay_base_seconds=600)
    for _ in range(settings.lockout_threshold):
        _fail(rt, settings, "rosa", "203.0.113.5")
    _fail(rt, settings, "rosa", "203.0.113.5", USER_PASSWORD)
    assert users.failed_logins(rt, admin, "rosa") >= settings.lockout_threshold
    users.unlock(rt, admin, "rosa")
    assert auth.login(rt.store, settings, "rosa", USER_PASSWORD, client_addr="203.0.113.5").actor


PROXY = client_address.parse_trusted("10.0.0.0/8, 127.0.0.1/32, ::1/128")


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # no trusted proxies configured: headers are ignored, the peer counts
        ("198.51.100.1", [("X-Forwarded-For", "1.2.3.4")], "198.51.100.1"),
        # a loopback peer that is not a trusted proxy is no address (not one shared bucket)
        ("127.0.0.1", [("X-Forwarded-For", "1.2.3.4")], None),
    ],
)
def test_forwarding_headers_are_ignored_without_trusted_proxies(
    peer: str, headers: list[tuple[str, str]], expected: str | None
) -> None:
    assert client_address.resolve(peer, headers, ()) == expected


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # the proxy appends the real client on the right; the client's own claim is ignored
        ("127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 198.51.100.23")], "198.51.100.23"),
        (
            "10.1.2.3",
            [("x-forwarded-for", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.8")],
            "203.0.113.8",
        ),
        # two proxy hops: skip trusted hops from the right
        ("127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 203.0.113.8, 10.9.9.9")], "203.0.113.8"),
        ("::1", [("Forwarded", 'for="[2001:db8::7]:443";proto=https')], "2001:db8::7"),
        ("127.0.0.1", [("Forwarded", "for=6.6.6.6, for=192.0.2.60:1234")], "192.0.2.60"),
        ("::ffff:127.0.0.1", [("X-Forwarded-For", "192.0.2.61")], "192.0.2.61"),
        # an untrusted peer cannot speak for anyone
        ("198.51.100.1", [("X-Forwarded-For", "10.0.0.5")], "198.51.100.1"),
        # only proxies, nothing, or garbage from the proxy: no address
        ("127.0.0.1", [], None),
        ("127.0.0.1", [("X-Forwarded-For", "10.0.0.1, 10.0.0.2")], None),
        ("127.0.0.1", [("X-Forwarded-For", "6.6.6.6, not-an-ip")], None),
        ("127.0.0.1", [("X-Forwarded-For", "1.1.1.1\x00, 'or 1=1")], None),
        (None, [("X-Forwarded-For", "1.2.3.4")], None),
        ("garbage", [], None),
    ],
)
def test_forwarding_headers_are_believed_only_from_trusted_proxies(
    peer: str | None, headers: list[tuple[str, str]], expected: str | None
) -> None:
    assert client_address.resolve(peer, headers, PROXY) == expected


def test_a_long_forged_chain_is_cut_and_a_bad_setting_is_refused() -> None:
    forged = ", ".join(["10.0.0.1"] * 10_000)
    assert client_address.resolve("127.0.0.1", [("X-Forwarded-For", forged)], PROXY) is None
    with pytest.raises(ConfigError):
        client_address.parse_trusted("10.0.0.0/8, everyone")
