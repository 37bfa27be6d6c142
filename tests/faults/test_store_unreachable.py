"""A store that cannot be reached is said so, not "busy" (reliability rule 3: the user sees what
happened and what to do).

The metadata store is reached through a fault proxy. When every pooled connection and every new
one is reset, a checkout that times out tells the user the store cannot be reached, with the
network's reason and a hint that does not ask for a bigger pool; a pool that is only full (the
store answers) still says "busy" with the pool-size hint. Both in pt-BR as well, by key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.errors import ConnectionLost, Unavailable
from petcare_dba.ui import i18n
from tests.faults.fix_matrix import _upstream, proxied
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy"]  # the fixture is used by name


@pytest.fixture
def proxied_store(
    meta_url: str, fault_proxy: Callable[..., FaultProxy]
) -> Iterator[tuple[MetaStore, FaultProxy]]:
    proxy = fault_proxy(*_upstream(meta_url))
    store = MetaStore(proxied(proxy, meta_url), min_size=1, max_size=1, timeout=1.0).open()
    try:
        yield store, proxy
    finally:
        store.close()


def _select_one(store: MetaStore) -> None:
    with store.tx() as tx:
        assert tx.value("SELECT 1") == 1


def test_a_store_that_resets_every_connection_is_said_unreachable(
    proxied_store: tuple[MetaStore, FaultProxy],
) -> None:
    store, proxy = proxied_store
    _select_one(store)
    proxy.add_toxic("reset_peer", 0)  # the pooled connection and every new one: reset
    # The pooled connection dies under the statement: that is a lost connection (F1) ...
    with pytest.raises(ConnectionLost):
        _select_one(store)
    # ... and then no new one comes: the store cannot be reached, and the user is told so.
    with pytest.raises(Unavailable) as caught:
        _select_one(store)
    error = caught.value
    assert error.message.startswith("cannot reach the metadata store: ")
    assert len(error.message) > len("cannot reach the metadata store: ")  # and why
    assert "pool_max_size" not in (error.hint or "") and "petcare-dba health" in (error.hint or "")
    assert i18n.said("pt-BR", error.message).startswith(
        "não foi possível acessar o banco de metadados: "
    )
    assert "verifique" in i18n.said("pt-BR", error.hint)
    proxy.clear_toxics()  # back: the pool reconnects by itself, after its back-off
    deadline = time.monotonic() + 30
    while True:
        try:
            _select_one(store)
            break
        except Unavailable:  # busy until the pool's next attempt: said as such, not a traceback
            assert time.monotonic() < deadline, "the store came back but the pool did not"
            time.sleep(0.2)


def test_a_full_pool_of_a_reachable_store_is_still_busy(
    proxied_store: tuple[MetaStore, FaultProxy],
) -> None:
    store, _ = proxied_store
    with store.pool.connection(), pytest.raises(Unavailable) as caught:
        _select_one(store)  # the only connection is held above
    assert "busy" in caught.value.message and "pool_max_size" in (caught.value.hint or "")
