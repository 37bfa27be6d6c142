"""Row level security cost of the projects feature at 1,000 users / 10,000 projects / 1 M versions.

Loads the migrated metadata schema with 1,000 users, 10,000 projects (owner + 2 members each),
100,000 scripts and 1,000,000 script versions (`--quick`: a tenth), then measures, through the
app's own MetaStore (petcare_login -> SET LOCAL ROLE petcare_app, identity per transaction),
the named queries behind "list my projects" (`project_list`), "list the scripts of a project"
(`script_list`) and a script's history (`version_list`) for random users: p95 over 300 calls
each. Baseline: the same queries and transaction shape as a superuser (no RLS) in the same run.
Reports `rls_list_p95_ms` (the worst of the two list queries; goal <= 50), the ratios, and
whether EXPLAIN under RLS shows an InitPlan for the identity and the membership index.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import psycopg

from bench._pg import fresh_database, server
from petcare_dba.db import migrations, queries
from petcare_dba.db.metastore import Identity, MetaStore
from petcare_dba.services.runtime import runtime_url

PASSWORD = "bench-runtime-password-42"  # noqa: S105 - a throwaway benchmark database
CALLS = 300
# session_replication_role = replica: the bulk load skips the per-row triggers (versions are
# numbered and hashed here instead).
LOAD = """
SET session_replication_role = replica;
INSERT INTO petcare.users (username, role)
SELECT 'u' || g, CASE WHEN g <= 5 THEN 'admin' ELSE 'analyst' END
FROM generate_series(1, %(users)s) g;
INSERT INTO petcare.projetos_analytics (name, description, created_by, owner_id, updated_by)
SELECT 'project ' || g, 'bench project ' || g, 'u' || (1 + g %% %(users)s), 1 + g %% %(users)s,
       1 + g %% %(users)s
FROM generate_series(1, %(projects)s) g;
INSERT INTO petcare.project_members (project_id, user_id, role, added_by)
SELECT p.id, p.owner_id, 'owner', p.owner_id FROM petcare.projetos_analytics p
UNION ALL
SELECT p.id, 1 + (p.owner_id + k * 37) %% %(users)s, CASE k WHEN 1 THEN 'editor' ELSE 'viewer' END,
       p.owner_id
FROM petcare.projetos_analytics p, generate_series(1, 2) k;
UPDATE petcare.projetos_analytics p
SET membros = (SELECT array_agg(u.username ORDER BY u.username) FROM petcare.project_members m
               JOIN petcare.users u ON u.id = m.user_id WHERE m.project_id = p.id);
INSERT INTO petcare.scripts_projetos (project_id, name, tags, current_version, created_by,
                                      updated_by)
SELECT p.id, 'script ' || s, '{bench}', %(versions_per_script)s, p.owner_id, p.owner_id
FROM petcare.projetos_analytics p, generate_series(1, %(scripts_per_project)s) s;
INSERT INTO petcare.script_versions (script_id, version, content, content_hash, message,
                                     author_id, created_at)
SELECT s.id, v, c.content, encode(sha256(convert_to(c.content, 'UTF8')), 'hex'), 'v' || v,
       s.created_by, now() - (%(versions_per_script)s - v) * interval '1 hour'
FROM petcare.scripts_projetos s, generate_series(1, %(versions_per_script)s) v,
     LATERAL (SELECT 'SELECT count(*) FROM pets WHERE clinic_id = ' || s.id || ' AND v = '
                     || v AS content) c;
SET session_replication_role = origin
"""


def _p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[18], 3)


def _measure(run: Any, args: list[tuple[int, dict[str, Any], str]]) -> float:
    samples = []
    for user_id, params, name in args:
        started = time.perf_counter()
        run(user_id, name, params)
        samples.append((time.perf_counter() - started) * 1000)
    return _p95(samples)


def _workload(admin_url: str, users: int) -> dict[str, list[tuple[int, dict[str, Any], str]]]:
    rng = random.Random(4)
    with psycopg.connect(admin_url) as conn:
        members = conn.execute(
            "SELECT user_id, project_id FROM petcare.project_members ORDER BY random() LIMIT %s",
            (CALLS,),
        ).fetchall()
        script_ids: dict[int, int] = dict(
            conn.execute(
                "SELECT DISTINCT ON (project_id) project_id, id FROM petcare.scripts_projetos "
                "WHERE project_id = ANY(%s) ORDER BY project_id, id",
                ([p for _, p in members],),
            ).fetchall()
        )
    mine = {"all": False, "archived": True, "search": None, "limit": 500}
    return {
        "projects": [(rng.randint(6, users), mine, "project_list") for _ in range(CALLS)],
        "scripts": [(u, {"project_id": p, "deleted": False}, "script_list") for u, p in members],
        "history": [(u, {"script_id": script_ids[p]}, "version_list") for u, p in members],
    }


def _explain(admin_url: str, user_id: int, name: str, params: dict[str, Any]) -> str:
    with psycopg.connect(admin_url) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE petcare_app")
        conn.execute("SELECT set_config('app.user_id', %s, true)", (str(user_id),))
        rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + queries.get(name), params)
        return "\n".join(r[0] for r in rows.fetchall())


def main(quick: bool) -> dict[str, Any]:
    scale = 10 if quick else 1
    users, projects = 1000 // scale, 10_000 // scale
    sizes = {
        "users": users,
        "projects": projects,
        "scripts_per_project": 10,
        "versions_per_script": 10,
    }
    with server() as url:
        admin_url = fresh_database(url, "bench_projects")
        migrations.migrate(admin_url, PASSWORD)
        started = time.perf_counter()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for statement in LOAD.split(";\n"):
                if statement.strip():
                    conn.execute(statement, sizes)
            conn.execute("VACUUM ANALYZE")
            versions = conn.execute("SELECT count(*) FROM petcare.script_versions").fetchone()
        load_s = round(time.perf_counter() - started, 1)
        work = _workload(admin_url, users)
        store = MetaStore(runtime_url(admin_url, PASSWORD), max_size=2).open()

        def rls(user_id: int, name: str, params: dict[str, Any]) -> None:
            with store.tx(Identity(user_id, "bench")) as tx:
                tx.all(name, params)

        base_conn = psycopg.connect(admin_url, prepare_threshold=None)

        def baseline(user_id: int, name: str, params: dict[str, Any]) -> None:
            with base_conn.transaction():  # superuser: RLS does not apply
                base_conn.execute("SELECT set_config('app.user_id', %s, true)", (str(user_id),))
                base_conn.execute(queries.get(name), params).fetchall()

        for run in (rls, baseline):  # warm caches and pools
            for args in work.values():
                _measure(run, args[:20])
        result: dict[str, Any] = {}
        for key, args in work.items():
            result[f"rls_{key}_p95_ms"] = _measure(rls, args)
            result[f"baseline_{key}_p95_ms"] = _measure(baseline, args)
            result[f"{key}_ratio"] = round(
                result[f"rls_{key}_p95_ms"] / max(result[f"baseline_{key}_p95_ms"], 0.001), 2
            )
        store.close()
        base_conn.close()
        user, params, _ = work["projects"][0]
        plan_projects = _explain(admin_url, user, "project_list", params)
        user, params, _ = work["scripts"][0]
        plan_scripts = _explain(admin_url, user, "script_list", params)
        print(plan_projects, "\n\n", plan_scripts, sep="")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "bench_projects" WITH (FORCE)')
    worst = max(result["rls_projects_p95_ms"], result["rls_scripts_p95_ms"])
    return {
        **sizes,
        "script_versions": versions[0] if versions else 0,
        "load_s": load_s,
        "rls_list_p95_ms": worst,
        "goal_ms": 50,
        "meets_goal": worst <= 50,
        **result,
        "plan_initplan": "InitPlan" in plan_projects,
        "plan_membership_index": "project_members_user_id_idx" in plan_projects,
        "plan_scripts_index": "scripts_projetos" in plan_scripts and "Index" in plan_scripts,
    }
