"""The opt-in query-result cache: never served to a user whose privileges differ, exact keys.

`cached_select` runs a statement through `engine.run`, which uses the result cache itself
(services/sql/cached.py: the scope read on the user's lease with the user's credential, including
the privilege fingerprint, a lookup, and on a miss a real run whose result is put back with the
generation taken before it); `RunResult.from_cache` says whether it was served. Users differ
the way they do on one stored connection: a viewer reads through the
least-privilege role (row-level security applies), a dba through the main credential.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from psycopg.conninfo import conninfo_to_dict

from petcare_dba.db import target as target_db
from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.cache import results
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_cache import second, start_instance, wait_until
from tests.fix_engine import Target, target, tune

__all__ = ["second", "start_instance", "target"]


def _scope(rt: Runtime, actor: Actor, name: str) -> results.Scope:
    info = connections.for_run(rt, actor, name)
    read_path = actor.role == "viewer" or info.read_only
    url, path = connections.credential_for(rt, actor, info, read_path=read_path)
    limits = engine.limits_for(rt.settings, role=actor.role)
    pool = engine.pool_for(rt, actor, name, info.id, url)
    with pool.connection(target_db.application_name(actor.username, actor.session_id)) as lease:
        return results.scope(
            lease.conn,
            connection_id=info.id,
            credential_url=url,
            credential_path=path,
            role=actor.role,
            read_only=True,  # a plan the cache answers is always read-only
            max_rows=limits.max_rows,
            max_bytes=limits.max_bytes,
        )


def cached_select(
    rt: Runtime, actor: Actor, name: str, statement: str
) -> tuple[tuple[tuple[object, ...], ...], bool]:
    """(rows, served from cache) of one read-only statement through `engine.run` itself."""
    assert results.cacheable(engine.classify(statement)[0])
    run = engine.run(rt, actor, name, statement).raise_for_error()
    return run.results[0].rows, run.from_cache


@pytest.fixture
def on(rt: Runtime) -> Runtime:
    tune(rt, result_cache_enabled=True)
    return rt


def _read_role(rt: Runtime, admin: Actor, name: str) -> str:
    read_url = connections.for_run(rt, admin, name).read_url or ""
    return str(conninfo_to_dict(read_url)["user"])


@pytest.fixture
def secrets(rt: Runtime, admin: Actor, target: Target) -> Target:
    """Table `notes` under row-level security: the read role sees only rows marked public."""
    read_role = _read_role(rt, admin, target.name)
    target.execute(
        "CREATE TABLE notes (id int PRIMARY KEY, body text, public bool);"
        "INSERT INTO notes VALUES (1, 'open', true), (2, 'hidden', false);"
        "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY only_public ON notes FOR SELECT USING (public);"
        f'GRANT SELECT ON notes TO "{read_role}"'
    )
    return target


@pytest.mark.slow
def test_users_with_different_privileges_never_see_each_others_rows(
    on: Runtime, admin: Actor, make_user: Callable[[str, str], Actor], secrets: Target
) -> None:
    dba, viewer = make_user("dora", "dba"), make_user("vic", "viewer")
    statement = "SELECT id, body FROM notes ORDER BY id"
    assert cached_select(on, dba, secrets.name, statement) == (((1, "open"), (2, "hidden")), False)
    # The viewer's read role is under RLS: the dba's cached rows must not reach it.
    assert cached_select(on, viewer, secrets.name, statement) == (((1, "open"),), False)
    assert cached_select(on, viewer, secrets.name, statement) == (((1, "open"),), True)
    assert cached_select(on, dba, secrets.name, statement) == (((1, "open"), (2, "hidden")), True)
    # A second viewer on the same credential and scope sees what PostgreSQL would show it.
    viewer2 = make_user("val", "viewer")
    assert cached_select(on, viewer2, secrets.name, statement) == (((1, "open"),), True)


def test_a_revoked_grant_or_a_changed_policy_is_not_served_from_cache(
    on: Runtime, admin: Actor, make_user: Callable[[str, str], Actor], secrets: Target
) -> None:
    viewer = make_user("vic", "viewer")
    statement = "SELECT id, body FROM notes ORDER BY id"
    assert cached_select(on, viewer, secrets.name, statement)[1] is False
    assert cached_select(on, viewer, secrets.name, statement)[1] is True
    # A changed policy, outside the app: the next lookup misses and shows the new truth.
    secrets.execute("ALTER POLICY only_public ON notes USING (id = 2)")
    assert cached_select(on, viewer, secrets.name, statement) == (((2, "hidden"),), False)
    assert cached_select(on, viewer, secrets.name, statement)[1] is True
    # A revoked grant, outside the app: never served, the database refuses.
    secrets.execute(f'REVOKE SELECT ON notes FROM "{_read_role(on, admin, secrets.name)}"')
    with pytest.raises(PetcareError, match="permission denied"):
        cached_select(on, viewer, secrets.name, statement)


def test_off_by_default_then_keyed_by_exact_statement_and_typed_parameters(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    assert rt.settings.result_cache_enabled is False
    statement = "SELECT id FROM t ORDER BY id"
    assert cached_select(rt, admin, target.name, statement) == (((1,), (2,), (3,)), False)
    assert cached_select(rt, admin, target.name, statement)[1] is False
    on = rt
    tune(on, result_cache_enabled=True)
    scope = _scope(on, admin, target.name)
    cached = results.CachedResult(("n",), ("int4",), ((1,),), 1, "SELECT 1")
    gen = results.generation(on.cache, scope)
    assert results.put(on.cache, on.settings, scope, "SELECT 1 AS n", None, cached, generation=gen)
    assert results.get(on.cache, scope, "SELECT 1 AS n") is not None
    for other in (
        "SELECT  1 AS n",  # whitespace
        "SELECT 1 AS n -- a comment",
        "SELECT 1 AS n /* ; SELECT 2 AS n */",
        "select 1 as n",
        "SELECT 2 AS n",
        "SELECT '1' AS n",
    ):
        assert results.get(on.cache, scope, other) is None, other
    with_params = "SELECT id FROM t WHERE id = %s"
    assert results.put(on.cache, on.settings, scope, with_params, [1], cached, generation=gen)
    assert results.get(on.cache, scope, with_params, [1]) is not None
    for params in ([2], ["1"], [None], [1, 1], None, [True]):
        assert results.get(on.cache, scope, with_params, params) is None, params


def test_oversized_or_truncated_results_are_not_cached(
    on: Runtime, admin: Actor, target: Target
) -> None:
    tune(on, result_cache_max_entry_bytes=2048)
    big = "SELECT repeat('x', 100) AS body FROM generate_series(1, 50)"
    assert cached_select(on, admin, target.name, big)[1] is False
    assert cached_select(on, admin, target.name, big)[1] is False  # too big: never kept
    small = "SELECT repeat('x', 10) AS body FROM generate_series(1, 3)"
    cached_select(on, admin, target.name, small)
    assert cached_select(on, admin, target.name, small)[1] is True
    scope = _scope(on, admin, target.name)
    cached = results.CachedResult(("n",), ("int4",), ((1,),), 1, "SELECT 1")
    gen = results.generation(on.cache, scope)
    assert not results.put(
        on.cache, on.settings, scope, "SELECT 1", None, cached, generation=gen, truncated=True
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT random()",
        "SELECT clock_timestamp()",
        "SELECT nextval('s')",
        "SELECT * FROM t FOR UPDATE",
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "INSERT INTO t VALUES (9, 'n')",
        "SELECT my_function()",
    ],
)
def test_only_plain_reads_are_cacheable(statement: str) -> None:
    assert not results.cacheable(engine.classify(statement)[0])


def test_ddl_drops_cached_results_on_every_instance(
    on: Runtime, second: Runtime, admin: Actor, target: Target
) -> None:
    tune(second, result_cache_enabled=True)
    statement = "SELECT id FROM t ORDER BY id"
    for instance in (on, second):
        cached_select(instance, admin, target.name, statement)
        assert cached_select(instance, admin, target.name, statement)[1] is True
    engine.run(on, admin, target.name, "ALTER TABLE t ADD COLUMN extra int")
    wait_until(
        lambda: results.get(second.cache, _scope(second, admin, target.name), statement) is None,
        5.0,
        "B drops its cached results",
    )
    assert cached_select(on, admin, target.name, statement)[1] is False
