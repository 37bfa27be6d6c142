"""Connection faults between the app and a target, injected by a TCP proxy (F1, F2).

F1: a reset after the first statement of an explicit transaction → "connection lost; the open
transaction was rolled back by the server", nothing is replayed, and a later statement runs on
a fresh connection only when the user starts again. F2: the peer vanishes without FIN/RST while
a SELECT runs → TCP keepalive (lowered through settings) notices within idle + interval x count
seconds, the user gets an error and the worker is free again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

from petcare_dba.errors import ConnectionLost
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from petcare_dba.services.sql.transaction import LOST, ExplicitTransaction
from tests.fix_engine import Target, events, target, tune
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy", "target"]  # fixtures used by name


def _via(proxy_factory: Callable[[str, int], FaultProxy], url: str) -> tuple[FaultProxy, str]:
    parts = urlsplit(url)
    proxy = proxy_factory(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    proxied = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
    return proxy, urlunsplit((parts.scheme, proxied, parts.path, parts.query, parts.fragment))


def test_f1_reset_mid_transaction_is_reported_and_not_replayed(
    rt: Runtime, admin: Actor, target: Target, fault_proxy: Callable[[str, int], FaultProxy]
) -> None:
    proxy, url = _via(fault_proxy, target.url)
    connections.add(rt, admin, "flaky", url, shared=True)
    tx = ExplicitTransaction(rt, admin, "flaky")
    tx.run("UPDATE t SET note = 'lost' WHERE id = 1").raise_for_error()
    proxy.reset_peer()
    time.sleep(0.2)
    with pytest.raises(ConnectionLost) as info:
        tx.run("UPDATE t SET note = 'lost too' WHERE id = 2")
    assert info.value.message == LOST
    assert tx.state == "lost"
    assert target.table()[:2] == [(1, "one"), (2, "two")]  # rolled back, nothing replayed
    with pytest.raises(ConnectionLost):
        tx.run("SELECT 1")  # still over: no silent reconnect
    assert proxy.connections == 0
    # Only after the user starts again does a statement get a fresh connection.
    again = engine.run(rt, admin, "flaky", "SELECT note FROM t WHERE id = 1")
    assert again.results[0].rows == (("one",),) and proxy.connections == 1


def test_f1_reset_during_an_engine_run_is_connection_lost(
    rt: Runtime, admin: Actor, target: Target, fault_proxy: Callable[[str, int], FaultProxy]
) -> None:
    proxy, url = _via(fault_proxy, target.url)
    connections.add(rt, admin, "flaky", url, shared=True)
    threading.Timer(0.5, proxy.reset_peer).start()
    result = engine.run(rt, admin, "flaky", "SELECT pg_sleep(5)")
    assert isinstance(result.error, ConnectionLost)
    assert events(rt, admin)[-1].outcome == "error"


def test_f2_half_open_peer_is_detected_by_keepalive_and_the_worker_is_freed(
    rt: Runtime, admin: Actor, target: Target, fault_proxy: Callable[[str, int], FaultProxy]
) -> None:
    tune(
        rt,
        target_keepalives_idle_s=2,
        target_keepalives_interval_s=1,
        target_keepalives_count=2,
        statement_timeout_ms=120000,
        max_connections_per_user=1,
    )
    proxy, url = _via(fault_proxy, target.url)
    connections.add(rt, admin, "halfopen", url, shared=True)
    threading.Timer(0.5, proxy.vanish).start()
    started = time.monotonic()
    result = engine.run(rt, admin, "halfopen", "SELECT pg_sleep(60)")
    waited = time.monotonic() - started
    assert isinstance(result.error, ConnectionLost), result.error
    assert waited < 0.5 + 2 + 1 * 2 + 2  # idle + interval x count, plus slack
    # The worker and the pool slot are free: the next statement runs at once.
    again = engine.run(rt, admin, "halfopen", "SELECT 1 AS ok")
    assert again.results[0].rows == ((1,),)
