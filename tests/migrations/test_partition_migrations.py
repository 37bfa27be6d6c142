"""Migrations 0029 and 0030 on an existing store: rows survive, RLS and the audit chain hold.

The store is migrated to 0028 (the loader itself, shown only the earlier files), filled as a
deployment would be, then migrated the rest of the way; the test reads the result as the
superuser and as the runtime role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from petcare_dba.db import migrations
from tests.fix_db import RUNTIME_PASSWORD, PgServer

BEFORE = 28  # the last migration before the time partitions
PARENTS = ("metric_samples", "statement_deltas", "audit_log")


@pytest.fixture
def old_store(pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store at migration 0028 holding samples, deltas and audit rows across two months."""
    name = pg.create_database()
    url = pg.admin_url(name)
    earlier = [m for m in migrations.available() if m.version <= BEFORE]
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "available", lambda: earlier)
        migrations.migrate(url, RUNTIME_PASSWORD)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_FILL)
    try:
        yield url
    finally:
        pg.drop_database(name)


# Two users (an admin and a viewer), one shared connection, raw samples and rollups over five
# days, deltas, and audit rows written by the chain trigger: the row stamped just after a month
# boundary is chained BEFORE the one stamped just before it (chain order is not time order).
_FILL = """
INSERT INTO petcare.users (username, role) VALUES ('ada', 'admin'), ('vic', 'viewer');
INSERT INTO petcare.encryption_keys (version, wrapped_dek, kek_id) VALUES (1, '\\x00', 'k');
INSERT INTO petcare.connections (name, display_url, secret_enc, key_version, shared)
VALUES ('tgt', 'postgresql://x', '\\x00', 1, false);
INSERT INTO petcare.metric_samples (connection_id, metric, at, resolution_s, value)
SELECT c.id, 'm' || (i % 3), now() - i * interval '1 hour',
       CASE WHEN i % 2 = 0 THEN 0 ELSE 300 END, i
FROM petcare.connections c, generate_series(0, 119) i;
INSERT INTO petcare.metric_samples (connection_id, metric, at, value)
VALUES (NULL, 'host_cpu_pct', now(), 1);
INSERT INTO petcare.statement_deltas (connection_id, at, queryid, userid, calls, total_ms, rows,
    blks_hit, blks_read)
SELECT c.id, now() - i * interval '2 hours', i, 10, i, i, i, 0, 0
FROM petcare.connections c, generate_series(0, 49) i;
INSERT INTO petcare.audit_log (chain_seq, user_id, action, outcome, prev_hash, row_hash, at)
SELECT 0, u.id, 'login', 'ok', '', '', v.at
FROM (VALUES (1, date_trunc('month', now()) - interval '40 days'),
             (2, date_trunc('month', now()) + interval '1 millisecond'),
             (3, date_trunc('month', now()) - interval '1 millisecond'),
             (4, now())) v(n, at)
CROSS JOIN petcare.users u ORDER BY v.n, u.id;
"""


def _snapshot(conn: psycopg.Connection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "metric_samples": conn.execute(
            "SELECT id, connection_id, metric, at, resolution_s, value FROM petcare.metric_samples"
            " ORDER BY id"
        ).fetchall(),
        "statement_deltas": conn.execute(
            "SELECT id, connection_id, at, queryid, calls FROM petcare.statement_deltas ORDER BY id"
        ).fetchall(),
        "audit_log": conn.execute(
            "SELECT id, chain_seq, at, user_id, prev_hash, row_hash, hash_version "
            "FROM petcare.audit_log ORDER BY chain_seq"
        ).fetchall(),
    }


def _leaves(conn: psycopg.Connection[Any], parent: str) -> list[str]:
    rows = conn.execute(
        "SELECT relid::text FROM pg_partition_tree(%s::regclass) WHERE relid <> %s::regclass",
        (f"petcare.{parent}", f"petcare.{parent}"),
    ).fetchall()
    return [r[0] for r in rows]


def test_partitioning_keeps_every_row_the_chain_and_rls(old_store: str) -> None:
    with psycopg.connect(old_store, autocommit=True) as conn:
        before = _snapshot(conn)
    assert len(before["metric_samples"]) == 121 and len(before["audit_log"]) == 8

    applied = migrations.migrate(old_store, RUNTIME_PASSWORD)
    assert [m.version for m in applied][:2] == [29, 30]

    with psycopg.connect(old_store, autocommit=True) as conn:
        assert _snapshot(conn) == before
        for parent in PARENTS:
            kind = conn.execute(
                "SELECT relkind::text FROM pg_class WHERE oid = %s::regclass",
                (f"petcare.{parent}",),
            ).fetchone()
            assert kind == ("p",), parent
        chain = conn.execute("SELECT * FROM petcare.verify_audit_chain()").fetchone()
        assert chain == (True, 8, None, None)
        # the rows straddling the month boundary sit in two partitions, chained out of time order
        homes = conn.execute(
            "SELECT chain_seq, tableoid::regclass::text FROM petcare.audit_log "
            "WHERE chain_seq BETWEEN 3 AND 6 ORDER BY chain_seq"
        ).fetchall()
        assert homes[0][1] != homes[2][1] and homes[0][1] == homes[1][1]
        assert not conn.execute("SELECT count(*) FROM petcare.audit_log_default").fetchone()[0]  # type: ignore[index]
        # new rows continue the ids and the chain
        conn.execute(
            "INSERT INTO petcare.audit_log (chain_seq, action, outcome, prev_hash, row_hash) "
            "VALUES (0, 'x', 'ok', '', '')"
        )
        new_id, seq = conn.execute(
            "SELECT id, chain_seq FROM petcare.audit_log ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        assert seq == 9 and new_id > max(r[0] for r in before["audit_log"])
        assert conn.execute("SELECT ok FROM petcare.verify_audit_chain()").fetchone() == (True,)

        for parent in PARENTS:
            for rel in [f"petcare.{parent}", *_leaves(conn, parent)]:
                enabled, forced, policies = conn.execute(
                    "SELECT relrowsecurity, relforcerowsecurity, "
                    "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                    "FROM pg_class c WHERE c.oid = %s::regclass",
                    (rel,),
                ).fetchone()  # type: ignore[misc]
                assert enabled and forced and policies >= 1, rel
        ids = dict(conn.execute("SELECT username, id FROM petcare.users").fetchall())
    _assert_rls(old_store, ids, before)


def _as_app(url: str, user_id: int | None, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE petcare_app")
        conn.execute(
            "SELECT set_config('app.user_id', %s, true)", ("" if user_id is None else str(user_id),)
        )
        return conn.execute(statement).fetchall()


def _assert_rls(url: str, ids: dict[str, int], before: dict[str, list[Any]]) -> None:
    count = "SELECT count(*) FROM petcare.{}"
    for parent in PARENTS:  # no identity: nothing, through any parent
        assert _as_app(url, None, count.format(parent)) == [(0,)], parent
    # the admin sees everything; the viewer, whose private connection it is not, sees only the
    # app-wide sample and their own audit rows
    assert _as_app(url, ids["ada"], count.format("metric_samples")) == [(121,)]
    assert _as_app(url, ids["vic"], count.format("metric_samples")) == [(1,)]
    assert _as_app(url, ids["vic"], count.format("statement_deltas")) == [(0,)]
    assert _as_app(url, ids["vic"], count.format("audit_log")) == [(4,)]
    assert _as_app(url, ids["ada"], count.format("audit_log")) == [(9,)]
    # naming a partition does not step around the parent's policies: no privilege on any
    with psycopg.connect(url, autocommit=True) as conn:
        leaves = [leaf for parent in PARENTS for leaf in _leaves(conn, parent)]
    assert len(leaves) >= 12
    for leaf in leaves:
        for statement in (f"SELECT 1 FROM {leaf}", f"DELETE FROM {leaf} RETURNING 1"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                _as_app(url, ids["ada"], statement)
