"""The session check of a rerun (issue 19, "Round trips per page action"), counted by a TCP proxy
in front of the store: one metadata round trip, none within `session_check_window_s` of the last
one; a revocation made elsewhere is honoured once the window ends, one made in this process (and
every refusal) at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, runtime_password, runtime_url
from petcare_dba.services.security import auth, handoff, users
from petcare_dba.settings import Settings
from tests.fix_db import ADMIN_PASSWORD, USER_PASSWORD
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy"]

WINDOW_S = 0.5  # short, so the test waits little for the window to end


@pytest.fixture
def far(
    rt: Runtime, fault_proxy: Callable[..., FaultProxy]
) -> Iterator[tuple[MetaStore, FaultProxy]]:
    """This test's store reached through a counting proxy with a little latency each way."""
    parts = urlsplit(rt.admin_url)
    proxy = fault_proxy(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=(3.0, 3.0))
    auth_part = parts.netloc.rsplit("@", 1)[0]
    url = urlunsplit((parts.scheme, f"{auth_part}@127.0.0.1:{proxy.port}", parts.path, "", ""))
    store = MetaStore(runtime_url(url, runtime_password(rt.settings)), min_size=1, max_size=2)
    store.open()
    try:
        yield store, proxy
    finally:
        store.close()


def checks(store: MetaStore, proxy: FaultProxy, settings: Settings, token: str) -> list[int]:
    """The round trips of three session checks in a row."""
    out = []
    for _ in range(3):
        with proxy.counting() as turns:
            assert auth.resolve(store, settings, token) is not None
        out.append(turns.count)
    return out


def test_a_session_check_is_one_round_trip_and_none_within_the_window(
    rt: Runtime, admin: Actor, far: tuple[MetaStore, FaultProxy]
) -> None:
    store, proxy = far
    token = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD).token
    every_time = rt.settings.with_overrides(session_check_window_s=0.0)
    assert auth.resolve(store, every_time, token) is not None  # warm: the pool's connection
    assert checks(store, proxy, every_time, token) == [1, 1, 1]
    window = rt.settings.with_overrides(session_check_window_s=30.0)
    assert checks(store, proxy, window, token) == [0, 0, 0]  # the last check above counts
    # A refusal is never remembered: an unknown token asks the store each time.
    for _ in range(2):
        with proxy.counting() as turns:
            assert auth.resolve(store, window, "not-a-token") is None
        assert turns.count == 1
    # The client address is the caller's, not the one of the check that was remembered.
    who = auth.resolve(store, window, token, "203.0.113.9")
    assert who is not None and who.client_addr == "203.0.113.9"


def test_a_revocation_elsewhere_is_honoured_within_the_window(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    far: tuple[MetaStore, FaultProxy],
) -> None:
    store, proxy = far
    settings = rt.settings.with_overrides(session_check_window_s=WINDOW_S)
    make_user("vera", "viewer")
    tokens = {
        name: auth.login(rt.store, rt.settings, name, password).token
        for name, password in (("admin", ADMIN_PASSWORD), ("vera", USER_PASSWORD))
    }
    checked = time.monotonic()  # each check below is remembered from a moment after this
    for token in tokens.values():
        assert auth.resolve(store, settings, token) is not None
    ends = time.monotonic() + WINDOW_S  # ... and before this
    # Another process (the CLI, another instance) revokes admin's session and makes vera a dba:
    # this process learns of it from the store only.
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.sessions SET revoked_at = now() "
            "WHERE user_id = (SELECT id FROM petcare.users WHERE username = 'admin')"
        )
        conn.execute("UPDATE petcare.users SET role = 'dba' WHERE username = 'vera'")
    seen = auth.resolve(store, settings, tokens["vera"])
    if time.monotonic() < checked + WINDOW_S:  # still within the window: the last check's view
        assert seen is not None and seen.role == "viewer"
    time.sleep(max(0.0, ends - time.monotonic()))
    assert auth.resolve(store, settings, tokens["admin"]) is None
    seen = auth.resolve(store, settings, tokens["vera"])
    assert seen is not None and seen.role == "dba"  # the new role, one window late at most
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.users SET disabled = true WHERE username = 'vera'")
    time.sleep(WINDOW_S)
    with proxy.counting() as turns:
        assert auth.resolve(store, settings, tokens["vera"]) is None
    assert turns.count == 1


def test_a_revocation_in_this_process_is_honoured_at_once(
    rt: Runtime,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    far: tuple[MetaStore, FaultProxy],
) -> None:
    store, _ = far
    # A window far longer than the test: only the in-process forgetting can explain a refusal.
    settings = rt.settings.with_overrides(session_check_window_s=30.0)
    make_user("vera", "viewer")

    def signed_in(name: str = "vera", password: str = USER_PASSWORD) -> str:
        token = auth.login(rt.store, rt.settings, name, password).token
        assert auth.resolve(store, settings, token) is not None  # remembered now
        return token

    token = signed_in()
    users.set_role(rt, admin, "vera", "dba")
    seen = auth.resolve(store, settings, token)
    assert seen is not None and seen.role == "dba"
    users.revoke_sessions(rt, admin, "vera")  # "sign out everywhere"
    assert auth.resolve(store, settings, token) is None
    token = signed_in()
    vera = auth.resolve(store, settings, token)
    assert vera is not None
    auth.logout(rt.store, vera)  # the sidebar's sign-out
    assert auth.resolve(store, settings, token) is None
    token = signed_in()
    assert auth.revoke_token(rt.store, token)  # the cookie route's sign-out
    assert auth.resolve(store, settings, token) is None
    token = signed_in()
    users.set_disabled(rt, admin, "vera")
    assert auth.resolve(store, settings, token) is None
    users.set_disabled(rt, admin, "vera", disabled=False)
    token = signed_in()
    users.set_password(rt, admin, "vera", "An0ther-long-passphrase!")
    assert auth.resolve(store, settings, token) is None


def test_handoff_entries_of_interrupted_sign_ins_do_not_pile_up(rt: Runtime, admin: Actor) -> None:
    """A sign-in interrupted between making its handoff code and waiting for it leaves an entry
    in this process; entries older than a code's life are dropped when the next code is made."""
    opened = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD)
    binding = "b" * 40
    handoff._handoffs.clear()
    for _ in range(5):
        handoff.create_handoff(rt.store, rt.keyring, opened.actor, opened.token, binding)
    assert len(handoff._handoffs) == 5
    aged = time.monotonic() - handoff.HANDOFF_SECONDS - 1
    for digest, (event, _) in list(handoff._handoffs.items())[:4]:  # four outlived their code
        handoff._handoffs[digest] = (event, aged)
    handoff.create_handoff(rt.store, rt.keyring, opened.actor, opened.token, binding)
    assert len(handoff._handoffs) == 2  # the live one and the new one
