"""Row level security of projects, members, scripts, versions and runs (reliability R1-R6).

Every access rule is a row of CHECKS: who tries what, and whether the database must let it
happen. Checks run as the app's runtime role (`SET LOCAL ROLE petcare_app` plus
`set_config('app.user_id', ..., true)`, R3), each in a savepoint that is rolled back. The
mutation test then drops, and separately loosens to `true`, every policy on these tables inside a
rolled-back transaction and shows that at least one check fails for each (R2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from petcare_dba.db.metastore import Identity
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import scripts
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users
from tests.projects.rls_cases import (
    CHECKS,
    RUN_INSERT,
    TABLES,
    Check,
    World,
)


@pytest.fixture
def world(rt: Runtime, make_user, admin: Actor) -> World:  # type: ignore[no-untyped-def]
    people = {n: make_user(n, "analyst") for n in ("olga", "eddie", "xavier")}
    people["vera"] = make_user("vera", "viewer")
    olga, xavier = people["olga"], people["xavier"]
    p = projects.create(rt, olga, "P")
    projects.add_member(rt, olga, p, "eddie", "editor")
    projects.add_member(rt, olga, p, "vera", "viewer")
    s = scripts.save(rt, olga, p, "s", "SELECT 1").script_id
    pa = projects.create(rt, olga, "PA")
    projects.add_member(rt, olga, pa, "eddie", "editor")
    sa = scripts.save(rt, olga, pa, "sa", "SELECT 1").script_id
    projects.archive(rt, olga, pa)
    q = projects.create(rt, xavier, "Q")
    e = projects.create(rt, people["eddie"], "E")
    projects.add_member(rt, people["eddie"], e, "olga", "viewer")
    # W: a project vera made while she was an analyst, before an admin made her a viewer
    # (a viewer can no longer create one, but may still own one).
    users.set_role(rt, admin, "vera", "analyst")
    w = projects.create(rt, users.actor_for(rt, "vera"), "W")
    users.set_role(rt, admin, "vera", "viewer")
    sq = scripts.save(rt, xavier, q, "sq", "SELECT 1").script_id
    with rt.store.tx(olga.identity) as tx:
        v = int(tx.value("SELECT id FROM petcare.script_versions WHERE script_id = %s", [s]))
        r = int(
            tx.value(RUN_INSERT.format(user=olga.user_id, project=p, version=v) + " RETURNING id")
        )
    with rt.store.tx(xavier.identity) as tx:
        vq = int(tx.value("SELECT id FROM petcare.script_versions WHERE script_id = %s", [sq]))
        rx = int(
            tx.value(
                RUN_INSERT.format(user=xavier.user_id, project="NULL", version="NULL")
                + " RETURNING id"
            )
        )
    ids = {name: a.user_id for name, a in people.items()}
    ids |= {"admin": admin.user_id, "P": p, "PA": pa, "Q": q, "S": s, "SA": sa, "V": v, "VQ": vq}
    return World(ids | {"R": r, "RX": rx, "E": e, "W": w})


def _happened(conn: psycopg.Connection[Any], world: World, check: Check) -> bool:
    """Run one check as petcare_app with the check's identity; roll everything back."""
    conn.execute("SAVEPOINT chk")
    try:
        conn.execute("SET LOCAL ROLE petcare_app")
        who = "" if check.who == "anon" else str(world.ids[check.who])
        conn.execute("SELECT set_config('app.user_id', %s, true)", [who])
        happened = True
        for text in check.statements:
            cur = conn.execute(world.render(text))
            if text.startswith("SELECT"):
                row = cur.fetchone()
                happened = happened and row is not None and row[0] > 0
            else:
                happened = happened and cur.rowcount > 0
        if check.immediate:
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return happened
    except psycopg.Error:
        return False
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT chk")
        conn.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def su(meta_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection in one transaction that is rolled back at the end."""
    with psycopg.connect(meta_url, prepare_threshold=None) as conn:
        yield conn
        conn.rollback()


def _failures(conn: psycopg.Connection[Any], world: World, *, stop: bool = False) -> list[str]:
    failed = []
    for check in CHECKS:
        if _happened(conn, world, check) != check.allowed:
            failed.append(f"{check.table}: {check.rule} ({check.who})")
            if stop:
                break
    return failed


@pytest.mark.parametrize("table", TABLES)
def test_each_rule_allows_the_right_users_and_denies_the_others(
    world: World, su: psycopg.Connection[Any], table: str
) -> None:
    """R2 and R3: allow and deny per rule, run as petcare_app with identity set locally."""
    failed = []
    for check in (c for c in CHECKS if c.table == table):
        if _happened(su, world, check) != check.allowed:
            verb = "was refused" if check.allowed else "was allowed"
            failed.append(f"{check.rule}: {check.who} {verb}")
    assert failed == []


def test_checks_run_as_a_role_that_cannot_bypass_rls(
    world: World, su: psycopg.Connection[Any]
) -> None:
    """R3 guard: the role the checks use is not the owner, not superuser, not BYPASSRLS."""
    su.execute("SAVEPOINT g")
    su.execute("SET LOCAL ROLE petcare_app")
    row = su.execute(
        "SELECT current_user, r.rolsuper, r.rolbypassrls, "
        "(SELECT count(*) FROM pg_catalog.pg_tables t WHERE t.schemaname = 'petcare' "
        " AND t.tableowner = current_user) "
        "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    su.execute("ROLLBACK TO SAVEPOINT g")
    assert row == ("petcare_app", False, False, 0)


def _policies(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT tablename, policyname, cmd, roles::text[] AS roles, qual, with_check "
        "FROM pg_catalog.pg_policies WHERE schemaname = 'petcare' AND tablename = ANY(%s) "
        "ORDER BY tablename, policyname",
        [list(TABLES)],
    ).fetchall()


def _mutations(policy: dict[str, Any]) -> list[tuple[str, sql.Composable]]:
    """Drop the policy; for the app's policies also loosen USING and WITH CHECK to true."""
    name, table = (
        sql.Identifier(policy["policyname"]),
        sql.Identifier("petcare", policy["tablename"]),
    )
    drop = sql.SQL("DROP POLICY {} ON {}").format(name, table)
    out: list[tuple[str, sql.Composable]] = [("dropped", drop)]
    if "petcare_app" not in policy["roles"]:
        return out  # owner policies exist for definer functions and are already USING (true)
    head = sql.SQL("CREATE POLICY {} ON {} FOR {} TO petcare_app").format(
        name, table, sql.SQL(policy["cmd"])
    )
    qual, check = policy["qual"], policy["with_check"]
    tail: sql.Composable
    if qual is not None:
        tail = sql.SQL(" USING (true)")
        if policy["cmd"] in ("UPDATE", "ALL"):
            tail += sql.SQL(" WITH CHECK ({})").format(sql.SQL(check or qual))
        out.append(("USING loosened", drop + sql.SQL("; ") + head + tail))
    if check is not None:
        tail = sql.SQL(" WITH CHECK (true)")
        if qual is not None:
            tail = sql.SQL(" USING ({})").format(sql.SQL(qual)) + tail
        out.append(("WITH CHECK loosened", drop + sql.SQL("; ") + head + tail))
    return out


def test_dropping_or_loosening_any_policy_fails_a_check(
    world: World, su: psycopg.Connection[Any]
) -> None:
    """R2 mutation check: every policy on these tables is load-bearing."""
    assert _failures(su, world) == []
    policies = _policies(su)
    assert len(policies) == 22  # a new policy needs checks here too
    survivors = []
    for policy in policies:
        for label, mutation in _mutations(policy):
            su.execute("SAVEPOINT mutant")
            su.execute("SET LOCAL ROLE petcare_owner")
            su.execute(mutation)  # type: ignore[call-overload]
            su.execute("RESET ROLE")
            if not _failures(su, world, stop=True):
                survivors.append(f"{policy['tablename']}.{policy['policyname']} {label}")
            su.execute("ROLLBACK TO SAVEPOINT mutant")
    assert survivors == [], "\n".join(survivors)


def test_tables_have_forced_rls_and_a_policy_for_every_granted_command(
    su: psycopg.Connection[Any],
) -> None:
    """R1: ENABLE + FORCE, and each command petcare_app holds is governed by a policy."""
    policies = _policies(su)
    for table in TABLES:
        enabled, forced = su.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_catalog.pg_class "
            "WHERE oid = %s::regclass",
            [f"petcare.{table}"],
        ).fetchone()  # type: ignore[misc]
        assert enabled and forced, table
        for cmd in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            granted = su.execute(
                "SELECT has_table_privilege('petcare_app', %s, %s)", [f"petcare.{table}", cmd]
            ).fetchone()[0]  # type: ignore[index]
            governed = any(
                p["tablename"] == table and p["cmd"] in (cmd, "ALL") and "petcare_app" in p["roles"]
                for p in policies
            )
            assert governed or not granted, f"{table} {cmd} is granted without a policy"


_CALL = re.compile(r"(petcare\.\w+|current_setting)\(")


def test_policies_and_definer_functions_pass_the_lint(su: psycopg.Connection[Any]) -> None:
    """R5: helpers wrapped in (SELECT ...), no `true` write policy for the app, definers locked."""
    for p in _policies(su):
        if "petcare_app" not in p["roles"]:
            continue
        for expr in (p["qual"], p["with_check"]):
            if expr is None:
                continue
            assert expr.strip("() ") != "true" or p["cmd"] == "SELECT", p["policyname"]
            for match in _CALL.finditer(expr):
                before = expr[: match.start()].rstrip()
                assert before.endswith("SELECT"), f"{p['policyname']}: {match.group(1)} unwrapped"
    rows = su.execute(
        "SELECT p.proname, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') "
        "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'petcare' AND p.prosecdef AND p.proname = ANY(%s) ORDER BY 1",
        [["my_project_ids", "project_role", "my_owned_project_ids", "my_writable_project_ids",
          "projects_guard", "project_members_sync_ins", "project_members_sync_upd",
          "project_members_sync_del", "project_owner_check"]],
    ).fetchall()  # fmt: skip
    assert len(rows) == 9
    for name, config, public in rows:
        assert any(c.startswith("search_path=") for c in config or []), name
        assert not public, f"{name} is executable by PUBLIC"


def test_identity_does_not_leak_across_pooled_connections(rt: Runtime, world: World) -> None:
    """R4: after olga's transaction, an anonymous checkout sees nothing and xavier sees no P."""
    olga, xavier = Identity(world.ids["olga"]), Identity(world.ids["xavier"])
    for _ in range(6):  # more checkouts than the pool has connections
        with rt.store.tx(olga) as tx:
            assert tx.value("SELECT count(*) FROM petcare.projetos_analytics") == 3
        with rt.store.tx(Identity(None)) as tx:
            assert tx.value("SELECT current_setting('app.user_id', true)") in ("", None)
            for table in TABLES:
                assert tx.value(f"SELECT count(*) FROM petcare.{table}") == 0, table
        with rt.store.tx(xavier) as tx:
            assert tx.value("SELECT count(*) FROM petcare.projetos_analytics WHERE id = %s",
                            [world.ids["P"]]) == 0  # fmt: skip


def test_plans_use_the_membership_index_and_evaluate_identity_once(
    su: psycopg.Connection[Any], world: World
) -> None:
    """R6 (shape; sizes are in `python -m bench projects`): InitPlan + membership index."""
    from petcare_dba.db import queries

    su.execute("SAVEPOINT e")
    su.execute("SET LOCAL ROLE petcare_app")
    su.execute("SET LOCAL enable_seqscan = off")
    su.execute("SELECT set_config('app.user_id', %s, true)", [str(world.ids["vera"])])
    params = {"all": False, "archived": True, "search": None, "limit": 100}
    plan = "\n".join(
        r[0] for r in su.execute("EXPLAIN " + queries.get("project_list"), params).fetchall()
    )
    scripts_plan = "\n".join(
        r[0]
        for r in su.execute(
            "EXPLAIN " + queries.get("script_list"),
            {"project_id": world.ids["P"], "deleted": False},
        ).fetchall()
    )
    su.execute("ROLLBACK TO SAVEPOINT e")
    assert "InitPlan" in plan and "project_members_user_id_idx" in plan, plan
    assert "InitPlan" in scripts_plan or "SubPlan" in scripts_plan, scripts_plan
    assert "scripts_projetos" in scripts_plan and "Index" in scripts_plan, scripts_plan
