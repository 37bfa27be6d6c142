"""Two instances on one metadata store: DDL on one reaches the other's caches within a bound.

Instance A is the `rt` fixture, instance B a second `Runtime` on the same store. DDL goes through
the SQL engine on A; B's explorer catalog and assistant schema index must show it within five
seconds (polled, no fixed sleeps), over LISTEN/NOTIFY (the default, no Redis) and over Redis
pub/sub. The channel is open to any role that may connect to the metadata database, so hostile
payloads are sent by a role that is not the app's, and the listener survives a terminated backend.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from petcare_dba import settings as settings_mod
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import context
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_cache import redis_settings, second, start_instance, wait_until
from tests.fix_db import PgServer
from tests.fix_engine import Target, target
from tests.security.c_privilege_fixtures import create_role, drop_login_role, unique

__all__ = ["redis_settings", "second", "start_instance", "target"]
BOUND_S = 5.0


def _names(rt: Runtime, actor: Actor, name: str) -> set[str]:
    return {r.name for r in explorer.discover(rt, actor, name).relations}


def _ddl_reaches_the_other_instance(a: Runtime, b: Runtime, admin: Actor, tgt: Target) -> float:
    conn = connections.get(a, admin, tgt.name)
    assert "fresh_table" not in _names(a, admin, tgt.name)
    assert "fresh_table" not in _names(b, admin, tgt.name)
    assert all(e.name != "fresh_table" for e in context.schema_index(b, admin, conn))
    engine.run(a, admin, tgt.name, "CREATE TABLE fresh_table (id int PRIMARY KEY)")
    assert "fresh_table" in _names(a, admin, tgt.name)  # A dropped its own copy at once
    took = wait_until(lambda: "fresh_table" in _names(b, admin, tgt.name), BOUND_S, "B's catalog")
    assert any(e.name == "fresh_table" for e in context.schema_index(b, admin, conn))
    return took


def test_ddl_on_one_instance_refreshes_the_other_over_listen_notify(
    rt: Runtime, second: Runtime, admin: Actor, target: Target
) -> None:
    for instance in (rt, second):
        health = instance.cache.health()
        assert (health.configured, health.backend, health.degraded) == ("memory", "memory", False)
        assert health.bus == "postgres listen/notify" and health.bus_connected
    assert _ddl_reaches_the_other_instance(rt, second, admin, target) < BOUND_S


def test_ddl_on_one_instance_refreshes_the_other_over_redis(
    rt: Runtime,
    admin: Actor,
    target: Target,
    redis_settings: settings_mod.Settings,
    start_instance: Callable[[settings_mod.Settings], Runtime],
) -> None:
    a, b = start_instance(redis_settings), start_instance(redis_settings)
    for instance in (a, b):
        health = instance.cache.health()
        assert (health.backend, health.bus, health.degraded) == ("redis", "redis pub/sub", False)
    conn_id = connections.get(a, admin, target.name).id
    explorer.discover(a, admin, target.name)
    # The cache is shared: B's first read is A's entry.
    hits = b.cache.hits
    explorer.discover(b, admin, target.name)
    assert b.cache.hits == hits + 1
    before = b.cache.generation(conn_id)
    assert _ddl_reaches_the_other_instance(a, b, admin, target) < BOUND_S
    # Pub/sub itself delivered A's message to B (not only the shared delete).
    wait_until(lambda: b.cache.generation(conn_id) != before, BOUND_S, "pub/sub to B")


def test_role_verdicts_are_forgotten_on_every_instance(
    rt: Runtime, second: Runtime, admin: Actor, target: Target
) -> None:
    viewer_url = connections.for_run(second, admin, target.name)
    connections.credential_for(second, admin, viewer_url, read_path=True)  # B caches a verdict
    assert second.cache.backend.usage()[0] == 1
    connections.set_flags(rt, admin, target.name, ambient_credentials=False, allow_stats=True)
    wait_until(lambda: second.cache.backend.usage()[0] == 0, BOUND_S, "B forgets verdicts")


def _notify_as(url: str, channel: str, payloads: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for payload in payloads:
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def test_notify_from_a_role_that_is_not_the_app_is_ignored_or_harmless(
    pg: PgServer, rt: Runtime, second: Runtime, admin: Actor, target: Target
) -> None:
    conn_id = connections.get(rt, admin, target.name).id
    explorer.discover(second, admin, target.name)
    assert second.cache.backend.usage()[0] >= 1
    meta_db = urlsplit(rt.admin_url).path.lstrip("/")
    # Any role that may connect may NOTIFY: the worst case is a role granted CONNECT.
    intruder_url = create_role(pg.admin_url(meta_db), unique("intruder"))
    try:
        channel = f"{rt.cache.namespace}_cache"
        _notify_as(
            intruder_url,
            channel,
            [
                "DROP TABLE everything",
                '{"v":1,"from":"' + "0" * 32 + '","conn":' + str(conn_id) + ',"kinds":["catalog"],'
                '"rows":[["secret"]]}',
                "x" * 7000,
            ],
        )
        wait_until(lambda: second.cache.ignored_messages == 3, BOUND_S, "hostile payloads seen")
        assert second.cache.backend.usage()[0] >= 1  # nothing dropped, nothing stored
        # A well-formed message from anyone may only drop entries: that is safe.
        _notify_as(
            intruder_url,
            channel,
            ['{"v":1,"from":"' + "0" * 32 + '","conn":' + str(conn_id) + ',"kinds":["catalog"]}'],
        )
        wait_until(lambda: second.cache.backend.usage()[0] == 0, BOUND_S, "harmless drop")
        assert "t" in _names(second, admin, target.name)  # read again from the database
    finally:
        drop = "REVOKE CONNECT ON DATABASE {db} FROM {r}; DROP OWNED BY {r}"
        role = urlsplit(intruder_url).username or ""
        with psycopg.connect(pg.admin_url(meta_db), autocommit=True) as conn:
            conn.execute(sql.SQL(drop).format(db=sql.Identifier(meta_db), r=sql.Identifier(role)))
        drop_login_role(pg.admin_url(), intruder_url)


def test_the_listener_reconnects_and_drops_what_it_may_have_missed(
    pg: PgServer, rt: Runtime, second: Runtime, admin: Actor, target: Target
) -> None:
    conn_id = connections.get(rt, admin, target.name).id
    explorer.discover(second, admin, target.name)
    meta_db = urlsplit(rt.admin_url).path.lstrip("/")
    with psycopg.connect(pg.admin_url(meta_db), autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'petcare-dba/listen'"
        ).fetchone()
    assert killed and killed[0] == 2  # one listener per instance
    # Back within the bound, having dropped its local entries (messages may have been lost).
    wait_until(
        lambda: second.cache.health().bus_connected and second.cache.backend.usage()[0] == 0,
        BOUND_S,
        "listener back",
    )
    explorer.discover(second, admin, target.name)
    before = second.cache.generation(conn_id)
    engine.run(rt, admin, target.name, "CREATE TABLE after_reconnect (id int)")
    wait_until(lambda: second.cache.generation(conn_id) != before, BOUND_S, "message after")
    assert "after_reconnect" in _names(second, admin, target.name)
