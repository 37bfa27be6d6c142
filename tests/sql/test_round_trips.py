"""Round trips on the request path of a statement, counted by TCP proxies (issue 16).

The metadata store and the target are both reached through a counting `FaultProxy` with a few
milliseconds of latency each way (so that what one pipeline writes is one turn, as on a real
link). A warm 1k-row SELECT through `engine.run` may cost one metadata round trip (the durable
audit intent, A1) and two target round trips the first time (BEGIN, guards, DECLARE and the first
page; the rest of the page with COMMIT), one once its row width is known (`db.target.widths`).
The per-user cap on the store (shared slots) is on, as in production. The counts are asserted
exactly, so one more round trip fails the test, and a statement that needs one more (a pg_proc
lookup) shows the counter sees it. The outcome is written after the response and lands exactly
(`settle`, no sleep); one lost with its process becomes 'unknown' through the reconcile job. The
connection lookup is remembered, but a connection removed, unshared or changed is honoured on
the next statement, even when the change was made by another process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba.db.metastore import MetaStore
from petcare_dba.db.shared_slots import SharedSlots
from petcare_dba.db.target import widths
from petcare_dba.errors import NotFound, Refused
from petcare_dba.services import backups, connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import (
    Runtime,
    cache_namespace,
    runtime_password,
    runtime_url,
)
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer
from tests.fix_engine import Target, events, target, tune
from tests.fix_faults import FaultProxy, fault_proxy

__all__ = ["fault_proxy", "target"]  # fixtures used by name

QUERY = "SELECT id, name, amount FROM big ORDER BY id"
LATENCY_MS = (4.0, 4.0)


def via(make: Callable[..., FaultProxy], url: str) -> tuple[FaultProxy, str]:
    """A counting proxy in front of the server of `url`, and `url` pointed at it."""
    parts = urlsplit(url)
    proxy = make(parts.hostname or "127.0.0.1", parts.port or 5432, latency_ms=LATENCY_MS)
    auth = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    netloc = f"{auth[0]}@{host}" if len(auth) == 2 else host
    return proxy, urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Remote:
    rt: Runtime
    meta: FaultProxy
    target: FaultProxy
    target_url: str


@pytest.fixture
def remote(
    pg: PgServer,
    rt: Runtime,
    admin: Actor,
    fault_proxy: Callable[..., FaultProxy],
) -> Iterator[Remote]:
    """A second runtime on this test's store (its keyring, settings, migrations already done),
    store and target both behind counting proxies."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE big AS SELECT g AS id, 'name ' || g AS name, "
            "(g * 1.5)::numeric(12,2) AS amount FROM generate_series(1, 1000) g"
        )
    meta, meta_url = via(fault_proxy, rt.admin_url)
    tgt, tgt_url = via(fault_proxy, url)
    store = MetaStore(
        runtime_url(meta_url, runtime_password(rt.settings)),
        min_size=1,
        max_size=4,
        timeout=10,
        connect_timeout=10,
    ).open()
    runtime = Runtime(rt.settings, meta_url, store, rt.keyring)
    # As Runtime.start does: the per-user cap counted on the store (issue 18), through the
    # proxy too, so its round trips are counted like the intent's.
    runtime.target_slots.shared = SharedSlots(
        runtime_url(meta_url, runtime_password(rt.settings)),
        cache_namespace(rt.settings),
        linger_s=30.0,  # the warm-up's slot is still there on a loaded machine
    )
    connections.add(runtime, admin, "far", tgt_url, shared=True)
    try:
        yield Remote(runtime, meta, tgt, tgt_url)
    finally:
        engine.close(runtime)
        runtime.close()
        pg.drop_database(dbname)


def counted(remote: Remote, actor: Actor, text: str) -> tuple[engine.RunResult, int, int]:
    """Run `text` warm and count the round trips of the call itself on both links."""
    with remote.rt.deferred.held():  # the outcome of the run is written after it, not in it
        with remote.meta.counting() as meta, remote.target.counting() as tgt:
            result = engine.run(remote.rt, actor, "far", text, max_rows=1000)
    assert remote.rt.deferred.settle()
    return result, meta.count, tgt.count


def test_a_1k_row_select_costs_one_store_and_two_target_round_trips(
    remote: Remote, admin: Actor
) -> None:
    engine.run(remote.rt, admin, "far", QUERY, max_rows=1000).raise_for_error()  # warm up
    widths.forget()  # a statement never seen: a first page of 50 rows, then the rest
    result, meta, tgt = counted(remote, admin, QUERY)
    (query,) = result.raise_for_error().results
    assert len(query.rows) == 1000 and not query.truncated and result.committed
    assert (meta, tgt) == (1, 2), f"metadata store {meta}, target {tgt} round trips"
    # Seen before: its row width is known, so every row and the COMMIT come in one turn.
    again, meta, tgt = counted(remote, admin, QUERY)
    assert again.raise_for_error().results[0].rows == query.rows and again.committed
    assert (meta, tgt) == (1, 1), f"metadata store {meta}, target {tgt} round trips"
    # The outcomes were written after the responses, and they are exact once they land.
    runs = [e for e in events(remote.rt, admin) if e.target == "far"]
    assert sorted((e.outcome, e.rows_affected or 0) for e in runs) == [
        ("intent", 0),
        ("intent", 0),
        ("intent", 0),
        ("ok", 1000),
        ("ok", 1000),
        ("ok", 1000),
    ]
    # The counter is not blind: a call whose volatility needs pg_proc costs one more.
    result, meta, tgt = counted(remote, admin, "SELECT lower(name) FROM big ORDER BY id")
    assert len(result.raise_for_error().results[0].rows) == 1000
    assert (meta, tgt) == (1, 3)


def test_small_select_and_dml_stay_within_the_budget(remote: Remote, admin: Actor) -> None:
    engine.run(remote.rt, admin, "far", "SELECT 1").raise_for_error()  # warm up
    widths.forget()
    _, meta, tgt = counted(remote, admin, "SELECT 1")
    assert (meta, tgt) == (1, 2)  # first look: the page, then the COMMIT
    _, meta, tgt = counted(remote, admin, "SELECT 1")
    assert (meta, tgt) == (1, 1)  # width known: the row and the COMMIT in one turn
    # A buffered statement carries its COMMIT: one target round trip.
    result, meta, tgt = counted(remote, admin, "UPDATE big SET name = 'x' WHERE id = 1")
    assert result.raise_for_error().results[0].row_count == 1
    assert (meta, tgt) == (1, 1)


@pytest.mark.slow  # a second user (argon2) and five runs through the delaying proxies
def test_a_changed_or_revoked_connection_is_honoured_at_once(
    remote: Remote,
    admin: Actor,
    make_user: Callable[[str, str], Actor],
    rt: Runtime,
) -> None:
    vera = make_user("vera", "dba")
    engine.run(remote.rt, vera, "far", "SELECT 1").raise_for_error()  # remembered now
    # Another process (the fixture's runtime) makes it private: the intent refuses the stale
    # lookup, the run starts again from a fresh one, which no longer sees the connection.
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.connections SET shared = false WHERE name = 'far'")
    with pytest.raises(NotFound):
        engine.run(remote.rt, vera, "far", "SELECT 1")
    # The owner changes it in this process: the lookup is forgotten, the next run reads anew.
    engine.run(remote.rt, admin, "far", "SELECT 1").raise_for_error()
    connections.set_flags(remote.rt, admin, "far", ambient_credentials=False, allow_stats=True)
    with remote.rt.deferred.held(), remote.meta.counting() as meta:
        engine.run(remote.rt, admin, "far", "SELECT 1").raise_for_error()
    assert meta.count == 2  # the fresh lookup, then the intent
    # Changed by another process: the stale stamp sends the run back to a fresh lookup, and
    # the new flag decides this very run (read-only takes the read path, which refuses the
    # superuser credential).
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.connections SET read_only = true WHERE name = 'far'")
    with pytest.raises(Refused, match="read"):
        engine.run(remote.rt, admin, "far", "SELECT 1")
    with psycopg.connect(rt.admin_url, autocommit=True) as conn:
        conn.execute("UPDATE petcare.connections SET read_only = false WHERE name = 'far'")
    connections.remove(remote.rt, admin, "far")
    with pytest.raises(NotFound):
        engine.run(remote.rt, admin, "far", "SELECT 1")


def test_the_outcome_lands_after_the_response_and_a_lost_one_becomes_unknown(
    rt: Runtime, admin: Actor, target: Target, meta_url: str
) -> None:
    with rt.deferred.held():
        result = engine.run(rt, admin, "tgt", "SELECT id FROM t ORDER BY id")
        assert result.raise_for_error().results[0].row_count == 3
        # The answer is back; the intent is durable, the outcome and the run row (written
        # together) are still to be written: the history is exact once they land.
        assert _stored(meta_url) == (["intent"], [])
    assert rt.deferred.settle()
    assert _stored(meta_url) == (["intent", "ok"], ["ok"])
    # A process that dies before the write (here: the queue is dropped, as by kill -9) leaves
    # the intent open, and the reconcile job closes it as 'unknown'.
    with rt.deferred.held():
        engine.run(rt, admin, "tgt", "SELECT 1").raise_for_error()
        rt.deferred.close(timeout=0)
    assert audit.reconcile(rt.store, admin, older_than_minutes=0) == 1
    outcomes, runs = _stored(meta_url)
    assert outcomes[-2:] == ["intent", "unknown"] and runs[-1] == "unknown"


def _stored(meta_url: str) -> tuple[list[str], list[str]]:
    """(sql.execute audit outcomes, execucoes_scripts outcomes) in order, read as superuser."""
    with psycopg.connect(meta_url) as conn:
        audit_rows = conn.execute(
            "SELECT outcome FROM petcare.audit_log WHERE action = 'sql.execute' ORDER BY id"
        ).fetchall()
        run_rows = conn.execute("SELECT outcome FROM petcare.execucoes_scripts ORDER BY id")
        return [r[0] for r in audit_rows], [r[0] for r in run_rows.fetchall()]


def test_a_cache_hit_costs_one_target_round_trip_fewer_and_is_audited(
    remote: Remote, admin: Actor
) -> None:
    """The opt-in result cache through engine.run: the hit reads only the privilege
    fingerprint on the target (one round trip instead of two), is still on record, and a DDL
    drops it."""
    engine.run(remote.rt, admin, "far", QUERY, max_rows=1000).raise_for_error()  # warm up
    widths.forget()  # first looks, so each count below is the statement's own
    off, meta, tgt = counted(remote, admin, QUERY)
    assert (meta, tgt, off.from_cache) == (1, 2, False)
    tune(remote.rt, result_cache_enabled=True)
    widths.forget()
    miss, meta, tgt = counted(remote, admin, QUERY)
    # A miss reads the fingerprint, then runs as before: the price of the opt-in.
    assert (meta, tgt, miss.from_cache) == (1, 3, False)
    hit, meta, tgt = counted(remote, admin, QUERY)
    assert (meta, tgt, hit.from_cache) == (1, 1, True)
    assert hit.raise_for_error().results[0].rows == off.results[0].rows
    assert hit.results[0].column_oids == off.results[0].column_oids
    last = [e for e in events(remote.rt, admin) if e.target == "far"][-2:]
    assert [(e.outcome, e.rows_affected) for e in last] == [("intent", None), ("ok", 1000)]
    assert last[0].detail["cache"] == "hit"
    assert last[1].detail["message"] == "served from cache"
    # DDL through the engine invalidates: the next run is a miss and sees the new column.
    engine.run(remote.rt, admin, "far", "ALTER TABLE big ADD COLUMN extra int").raise_for_error()
    after = engine.run(remote.rt, admin, "far", "SELECT * FROM big ORDER BY id", max_rows=1000)
    assert not after.from_cache and "extra" in after.raise_for_error().results[0].columns
    again = engine.run(remote.rt, admin, "far", QUERY, max_rows=1000)
    assert not again.from_cache  # the entry of QUERY was dropped with the DDL


def _closed(proxy: FaultProxy, open_before: int) -> None:
    """Wait until the connections opened since are gone, so their Terminate is counted."""
    deadline = time.monotonic() + 10
    while proxy.connections > open_before and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_table_detail_and_a_backup_pipeline_their_catalogue_reads(
    remote: Remote, admin: Actor
) -> None:
    """A table's detail reads ten catalogue queries, a backup eight more: each list is one
    pipelined round trip, so a far target costs a few latencies, not one per query. Both
    open a connection of their own; what that costs (SSL request, startup, SCRAM, Terminate)
    is measured beside them."""
    idle = remote.target.connections
    with remote.target.counting() as bare:
        psycopg.connect(remote.target_url).close()
        _closed(remote.target, idle)
    with remote.target.counting() as detail:
        described = explorer.describe(remote.rt, admin, "far", "public", "big")
        _closed(remote.target, idle)
    assert described.round_trips == 4 and len(described.columns) == 3
    # The opening message, the name's resolution, the nine detail queries, COMMIT.
    assert detail.count == bare.count + 4, (detail.count, bare.count)
    with remote.target.counting() as backup:
        entry = backups.backup(remote.rt, admin, "far", "public", "big")
        _closed(remote.target, idle)
    assert entry.status == "ok" and entry.row_count == 1000
    # The detail again, then the snapshot's own connection: opening, the eight catalogue
    # reads, COPY, COMMIT (before: 12 and 11, so 2 * bare + 23).
    assert backup.count == 2 * bare.count + 8, (backup.count, bare.count)
