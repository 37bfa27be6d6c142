"""A target's owner cannot run their code as the app's login role through the search_path.

The app's login role for a target is often more privileged than the database's owner (the
cluster's postgres role on a self-hosted server). An owner may set the database's search_path
(ALTER DATABASE ... SET search_path) and put their own schema ahead of pg_catalog; every
unqualified function or operator in the app's catalogue queries would then resolve to theirs
and run as the app's role on every collector round (CVE-2018-1058's pattern). Here the owner's
schema holds an `=` for text, name, oid and "char", and now()/left()/lower()/format_type(),
all of which raise. The collector, the advisor, the monitoring drill-downs and the explorer
all work, and none of the owner's code ran: the app's own reads resolve in pg_catalog only.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from petcare_dba.services import backups, connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import checks
from petcare_dba.services.monitoring import collector, views
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer

BOOM = "shadow ran"
_SHADOW = [
    "CREATE SCHEMA shadow",
    *(
        statement
        for n, t in (("text", "text"), ("name", "name"), ("oid", "oid"), ("char", '"char"'))
        for statement in (
            f"CREATE FUNCTION shadow.boom_{n}({t}, {t}) RETURNS boolean LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{BOOM}'; END $$",
            f"CREATE OPERATOR shadow.= (LEFTARG = {t}, RIGHTARG = {t}, FUNCTION = shadow.boom_{n})",
        )
    ),
    f"CREATE FUNCTION shadow.now() RETURNS timestamptz LANGUAGE plpgsql "
    f"AS $$ BEGIN RAISE EXCEPTION '{BOOM}'; END $$",
    f"CREATE FUNCTION shadow.left(text, integer) RETURNS text LANGUAGE plpgsql "
    f"AS $$ BEGIN RAISE EXCEPTION '{BOOM}'; END $$",
    f"CREATE FUNCTION shadow.lower(text) RETURNS text LANGUAGE plpgsql "
    f"AS $$ BEGIN RAISE EXCEPTION '{BOOM}'; END $$",
    f"CREATE FUNCTION shadow.format_type(oid, integer) RETURNS text LANGUAGE plpgsql "
    f"AS $$ BEGIN RAISE EXCEPTION '{BOOM}'; END $$",
    "GRANT USAGE ON SCHEMA shadow TO PUBLIC",
    "CREATE TABLE public.pets (id int PRIMARY KEY, name text NOT NULL)",
    "INSERT INTO public.pets SELECT g, 'pet ' || g FROM generate_series(1, 50) g",
]


@pytest.fixture
def hijacked(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[str]:
    """A target whose search_path puts the owner's booby-trapped schema before pg_catalog."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in _SHADOW:
            conn.execute(statement)
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET search_path = shadow, pg_catalog, public").format(
                sql.Identifier(dbname)
            )
        )
    with psycopg.connect(url, autocommit=True) as conn:  # the trap is armed for new sessions
        with pytest.raises(psycopg.errors.RaiseException, match=BOOM):
            conn.execute("SELECT 'a'::text = 'a'::text")
    connections.add(rt, admin, "hijacked", url, shared=True)
    yield "hijacked"
    pg.drop_database(dbname)


def test_the_app_reads_of_a_hijacked_target_never_run_the_owner_code(
    rt: Runtime, admin: Actor, hijacked: str
) -> None:
    conn_id = views.connection_id(rt, admin, hijacked)
    sampled = collector.sample_connection(rt, admin, conn_id, hijacked, force=True)
    assert sampled.error is None and sampled.sampled, sampled
    advised = checks.run(rt, admin, hijacked)
    assert not [u for u in advised.unavailable if BOOM in u[1]], advised.unavailable
    assert all(BOOM not in f.detail for f in advised.findings if f.detail)
    assert views.sessions(rt, admin, hijacked) is not None
    assert views.space(rt, admin, hijacked) is not None
    assert views.maintenance(rt, admin, hijacked) is not None
    catalog = explorer.discover(rt, admin, hijacked, refresh=True)
    assert any(r.name == "pets" for r in catalog.relations)
    detail = explorer.describe(rt, admin, hijacked, "public", "pets")
    assert [c["name"] for c in detail.columns] == ["id", "name"]


def test_a_backup_and_restore_on_a_hijacked_target_never_run_the_owner_code(
    rt: Runtime, admin: Actor, hijacked: str
) -> None:
    entry = backups.backup(rt, admin, hijacked, "public", "pets")
    assert entry.status == "ok" and entry.row_count == 50
    restored = backups.restore(rt, admin, entry.id, into="pets_copy")
    assert restored.rows == 50 and restored.verified
