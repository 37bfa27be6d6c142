"""The in-process backend, the codec and the message parser: bounds, TTL, threads, hostile input.

No database: these are the parts every instance runs the same way. The clock of the TTL test is
injected (a true boundary, like the wall clock); everything else is the real code.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from petcare_dba.services.cache import Cache, codec
from petcare_dba.services.cache import bus as bus_mod
from petcare_dba.services.cache.memory import MemoryBackend

KEY = b"k" * 32


def test_values_come_back_with_their_types_and_as_copies() -> None:
    value = {
        "at": datetime(2026, 12, 3, 7, 46, tzinfo=UTC),
        "n": Decimal("1.10"),
        "b": b"\x00\xff",
        "u": uuid.UUID(int=7),
        "gap": timedelta(days=1, seconds=3),
        "nan": float("inf"),
        "looks_tagged": {"$t": "dt", "v": "2020-01-01"},  # data, not a tag
        "rows": [[1, None, "x"]],
    }
    blob = codec.encode(value, KEY)
    back = codec.decode(blob, KEY)
    assert back == value
    assert back is not value and back["rows"] is not value["rows"]


def test_a_changed_or_foreign_entry_is_refused() -> None:
    blob = codec.encode({"rows": [1]}, KEY)
    forged = blob[:-2] + b"9]"
    with pytest.raises(ValueError, match="signature"):
        codec.decode(forged, KEY)
    with pytest.raises(ValueError, match="signature"):
        codec.decode(blob, b"other key" * 4)
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    cache.backend.set(cache._entry("catalog", 1, ("a",)), forged, 60)  # someone wrote it
    assert cache.get("catalog", 1, ("a",)) is None


def test_an_unknown_type_is_not_cached_rather_than_an_error() -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    assert not cache.put("results", 1, ("q",), {"x": object()}, generation=cache.generation(1))
    assert cache.get("results", 1, ("q",)) is None


def test_key_parts_never_collide() -> None:
    assert codec.digest(KEY, "a", "bc") != codec.digest(KEY, "ab", "c")
    assert codec.canonical([1]) != codec.canonical(["1"])
    assert codec.canonical([None]) != codec.canonical(["None"])
    assert codec.canonical({"a": 1}) == codec.canonical({"a": 1})


def test_the_lru_keeps_within_its_bytes_and_drops_the_oldest() -> None:
    backend = MemoryBackend(1000)
    for i in range(10):
        assert backend.set(f"k{i}", bytes(300), 60)
        assert backend.usage()[1] <= 1000
    assert backend.get("k9") is not None and backend.get("k0") is None
    backend.get("k7")  # used: now the newest
    backend.set("k10", bytes(300), 60)
    assert backend.get("k7") is not None and backend.get("k8") is None
    assert not backend.set("huge", bytes(1001), 60)


def test_an_entry_expires_after_its_ttl() -> None:
    now = [100.0]
    backend = MemoryBackend(1000, clock=lambda: now[0])
    backend.set("k", b"v", 5)
    now[0] = 104.9
    assert backend.get("k") == b"v"
    now[0] = 105.0
    assert backend.get("k") is None and backend.usage() == (0, 0)


def test_an_entry_over_the_entry_bound_is_not_cached() -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY, max_entry_bytes=2000)
    gen = cache.generation(1)
    assert not cache.put("results", 1, ("big",), ["x" * 3000], generation=gen)
    assert cache.put("results", 1, ("small",), ["x" * 100], generation=gen)
    assert not cache.put("results", 1, ("s2",), ["x" * 500], generation=gen, max_bytes=300)


def test_a_read_that_began_before_an_invalidation_is_not_put_back() -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    before = cache.generation(3)
    cache.invalidate(3)  # DDL meanwhile
    assert not cache.put("catalog", 3, ("c",), {"old": True}, generation=before)
    assert cache.put("catalog", 4, ("c",), {"other": True}, generation=cache.generation(4))
    assert cache.get("catalog", 4, ("c",)) == {"other": True}


def test_invalidation_drops_one_connection_or_one_kind() -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    for conn in (1, 2):
        for kind in ("catalog", "schema", "results"):
            cache.put(kind, conn, ("x",), conn, generation=cache.generation(conn))
    cache.put("roles", None, ("u",), "v", generation=cache.generation(None))
    cache.invalidate(1)
    assert [cache.get(k, 1, ("x",)) for k in ("catalog", "schema", "results")] == [None] * 3
    assert [cache.get(k, 2, ("x",)) for k in ("catalog", "schema", "results")] == [2] * 3
    assert cache.get("roles", None, ("u",)) == "v"
    cache.invalidate(None, ("roles",))
    assert cache.get("roles", None, ("u",)) is None and cache.get("catalog", 2, ("x",)) == 2


def test_threads_share_the_memory_cache_safely() -> None:
    cache = Cache(MemoryBackend(200_000), key=KEY)
    errors: list[str] = []

    def work(worker: int) -> None:
        for i in range(300):
            conn = i % 5
            cache.put("results", conn, (worker, i), [worker, i], generation=cache.generation(conn))
            got = cache.get("results", conn, (worker, i))
            if got not in (None, [worker, i]):  # evicted or invalidated is fine, wrong is not
                errors.append(f"{worker}/{i}: {got}")
            if i % 50 == 0:
                cache.invalidate(conn)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries, size = cache.backend.usage()
    assert 0 < size <= 200_000 and entries > 0


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "garbage",
        "[]",
        json.dumps({"v": 1, "from": "a" * 32, "conn": 1}),  # no kinds
        json.dumps({"v": 1, "from": "a" * 32, "conn": "1", "kinds": ["catalog"]}),
        json.dumps({"v": 1, "from": "a" * 32, "conn": True, "kinds": ["catalog"]}),
        json.dumps({"v": 1, "from": "a" * 32, "conn": -1, "kinds": ["catalog"]}),
        json.dumps({"v": 2, "from": "a" * 32, "conn": 1, "kinds": ["catalog"]}),
        json.dumps({"v": 1, "from": "x", "conn": 1, "kinds": ["catalog"]}),
        json.dumps({"v": 1, "from": "a" * 32, "conn": 1, "kinds": ["../../etc"]}),
        json.dumps({"v": 1, "from": "a" * 32, "conn": 1, "kinds": ["catalog"], "rows": [1]}),
        json.dumps({"v": 1, "from": "a" * 32, "conn": 1, "kinds": ["catalog"] * 200}),
    ],
)
def test_a_malformed_bus_message_is_ignored(payload: str) -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    cache.put("catalog", 1, ("x",), "kept", generation=cache.generation(1))
    cache.receive(payload)
    assert cache.ignored_messages == 1
    assert cache.get("catalog", 1, ("x",)) == "kept"


def test_a_well_formed_message_only_drops_entries() -> None:
    cache = Cache(MemoryBackend(1 << 20), key=KEY)
    cache.put("catalog", 1, ("x",), "kept", generation=cache.generation(1))
    message = bus_mod.Message("b" * 32, 1, ("catalog",))
    assert bus_mod.parse(message.text()) == message
    cache.receive(message.text())
    assert cache.get("catalog", 1, ("x",)) is None
    assert cache.backend.usage() == (0, 0)  # nothing of the message was stored
