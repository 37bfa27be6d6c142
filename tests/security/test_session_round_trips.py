"""The session check of every rerun costs one metadata round trip (issue 19, "Round trips per
page action"), counted by a TCP proxy in front of the store; revocation is honoured at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime, runtime_password, runtime_url
from petcare_dba.services.security import auth
from tests.fix_db import ADMIN_PASSWORD
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy"]


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


def test_a_session_check_is_one_round_trip_and_sees_a_revocation_at_once(
    rt: Runtime, admin: Actor, far: tuple[MetaStore, FaultProxy]
) -> None:
    store, proxy = far
    token = auth.login(rt.store, rt.settings, "admin", ADMIN_PASSWORD).token
    assert auth.resolve(store, rt.settings, token) is not None  # warm: the pool's connection
    for _ in range(3):
        with proxy.counting() as turns:
            who = auth.resolve(store, rt.settings, token)
        assert who is not None and who.username == "admin"
        assert turns.count == 1, f"{turns.count} round trips for one session check"
    with proxy.counting() as turns:
        assert auth.resolve(store, rt.settings, "not-a-token") is None
    assert turns.count == 1
    assert auth.revoke_token(rt.store, token)
    assert auth.resolve(store, rt.settings, token) is None  # the next rerun is signed out
