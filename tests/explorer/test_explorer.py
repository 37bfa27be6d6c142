"""Explorer: discovery in a constant number of queries, partitions under parents, search, cache
and invalidation, table detail, sample rows (server-side pages, sort, bound filters, read-only),
the FK picture, and DDL that round-trips through a scratch database."""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.errors import NotFound, PermissionDenied, ValidationError
from petcare_dba.services import connections, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_db import PgServer
from tests.fix_explorer import Target, tgt  # noqa: F401

SCHEMA_SQL = r"""
CREATE SCHEMA clinic;
COMMENT ON SCHEMA clinic IS 'Clinic data';
CREATE TABLE clinic.owners (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE clinic.pets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id int REFERENCES clinic.owners (id) ON DELETE CASCADE,
    name text NOT NULL, species text DEFAULT 'dog', microchip_code text
);
COMMENT ON COLUMN clinic.pets.microchip_code IS 'ISO 11784 transponder';
CREATE TABLE clinic.visits (id int, pet_id bigint REFERENCES clinic.pets (id), at date NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE clinic.visits_2024 PARTITION OF clinic.visits
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE clinic.visits_2025 PARTITION OF clinic.visits
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE VIEW clinic.dogs AS SELECT * FROM clinic.pets WHERE species = 'dog';
CREATE MATERIALIZED VIEW clinic.pet_counts AS SELECT species, count(*) FROM clinic.pets GROUP BY 1;
CREATE SEQUENCE clinic.ticket_seq;
CREATE FUNCTION clinic.pet_name(p bigint) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT name FROM clinic.pets WHERE id = p $$;
INSERT INTO clinic.owners (name) SELECT 'owner ' || g FROM generate_series(1, 5) g;
INSERT INTO clinic.pets (owner_id, name, species)
    SELECT 1 + g % 5, 'pet ' || g, CASE WHEN g % 3 = 0 THEN 'cat' ELSE 'dog' END
    FROM generate_series(1, 120) g;
"""


@pytest.fixture
def clinic(tgt: Target) -> Target:  # noqa: F811
    tgt.execute(SCHEMA_SQL)
    tgt.execute("ANALYZE")
    return tgt


def test_discovery_finds_every_kind_and_groups_partitions(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    cat = explorer.discover(rt, admin, "tgt", refresh=True)
    kinds = {r.qualified: r.kind for r in cat.relations}
    assert kinds["clinic.pets"] == "table" and kinds["clinic.dogs"] == "view"
    assert kinds["clinic.pet_counts"] == "materialized view"
    assert (
        kinds["clinic.visits"] == "partitioned table" and kinds["clinic.ticket_seq"] == "sequence"
    )
    visits = cat.get("clinic", "visits")
    assert visits is not None
    assert visits.partitions == ("clinic.visits_2024", "clinic.visits_2025")
    top = [r.qualified for r in cat.top_level("clinic")]
    assert "clinic.visits_2024" not in top and "clinic.visits" in top
    pets = cat.get("clinic", "pets")
    assert pets is not None and pets.estimated_rows == 120 and pets.owner == "postgres"
    assert pets.columns[:2] == ("id", "owner_id") and pets.total_bytes
    assert any(f.name == "pet_name" and f.arguments == "p bigint" for f in cat.functions)
    assert any(s["schema"] == "clinic" and s["comment"] == "Clinic data" for s in cat.schemas)
    assert any(e.name == "plpgsql" for e in cat.extensions)


def test_discovery_query_count_does_not_grow_with_the_schema(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    small = explorer.discover(rt, admin, "tgt", refresh=True)
    clinic.execute(
        "DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format("
        "'CREATE TABLE public.extra_%s (id int PRIMARY KEY, a text, b jsonb)', i); END LOOP; END $$"
    )
    large = explorer.discover(rt, admin, "tgt", refresh=True)
    assert len(large.relations) >= len(small.relations) + 300
    assert large.round_trips == small.round_trips == 3  # opening, the 4 queries pipelined, COMMIT


def test_search_matches_names_columns_and_comments(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    cat = explorer.discover(rt, admin, "tgt", refresh=True)
    by = {(h.schema, h.name, h.matched) for h in cat.search("microchip")}
    assert ("clinic", "pets", "column") in by
    assert ("clinic", "pets", "comment") in {
        (h.schema, h.name, h.matched) for h in cat.search("transponder")
    }
    assert ("clinic", "owners", "name") in {
        (h.schema, h.name, h.matched) for h in cat.search("OWN")
    }
    assert any(h.name == "pet_name" for h in cat.search("pet_name"))
    assert cat.search("   ") == []


def test_catalog_is_cached_until_refresh_or_invalidation(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    first = explorer.discover(rt, admin, "tgt", refresh=True)
    clinic.execute("CREATE TABLE public.brand_new (id int)")
    assert explorer.discover(rt, admin, "tgt") == first
    assert first.get("public", "brand_new") is None
    explorer.invalidate(rt, connections.get(rt, admin, "tgt").id)
    assert explorer.discover(rt, admin, "tgt").get("public", "brand_new") is not None


def test_users_without_access_to_the_connection_get_nothing_cached(
    rt: Runtime, admin: Actor, clinic: Target, pg: PgServer, make_user
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "private", clinic.url, shared=False)
    explorer.discover(rt, admin, "private", refresh=True)
    vera = make_user("vera", "viewer")
    with pytest.raises((NotFound, PermissionDenied)):
        explorer.discover(rt, vera, "private")


def test_table_detail_lists_columns_constraints_indexes_and_edges(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    clinic.execute("CREATE INDEX pets_name_idx ON clinic.pets (lower(name))")
    clinic.execute("ALTER TABLE clinic.pets ENABLE ROW LEVEL SECURITY")
    clinic.execute("CREATE POLICY own ON clinic.pets FOR SELECT USING (owner_id > 0)")
    clinic.execute("CREATE ROLE explorer_reader")
    clinic.execute("GRANT SELECT ON clinic.pets TO explorer_reader")
    try:
        d = explorer.describe(rt, admin, "tgt", "clinic", "pets")
        assert [c["name"] for c in d.columns] == [
            "id",
            "owner_id",
            "name",
            "species",
            "microchip_code",
        ]
        assert d.columns[4]["comment"] == "ISO 11784 transponder"
        assert {c["type"] for c in d.constraints} == {"p", "f"}
        idx = {i["name"]: i for i in d.indexes}
        assert idx["pets_name_idx"]["valid"] and "lower(name)" in idx["pets_name_idx"]["definition"]
        assert idx["pets_pkey"]["constraint_name"] == "pets_pkey"
        assert d.policies[0]["name"] == "own" and d.policies[0]["command"] == "SELECT"
        assert {(g["grantee"], g["privilege"]) for g in d.grants} == {("explorer_reader", "SELECT")}
        edges = {(f["from_table"], f["to_table"]) for f in d.foreign_keys}
        assert edges == {("clinic.pets", "clinic.owners"), ("clinic.visits", "clinic.pets")}
        dot = explorer.neighbourhood_dot(d)
        assert '"clinic.visits" -> "clinic.pets"' in dot
        assert d.round_trips == 4  # opening, resolve, the 9 queries pipelined, COMMIT
    finally:
        clinic.execute("DROP OWNED BY explorer_reader; DROP ROLE explorer_reader")
    with pytest.raises(NotFound):
        explorer.describe(rt, admin, "tgt", "clinic", "nope")


def test_sample_rows_are_paged_sorted_and_filtered_on_the_server(
    rt: Runtime, admin: Actor, clinic: Target
) -> None:
    d = explorer.describe(rt, admin, "tgt", "clinic", "pets")
    page = explorer.sample(rt, admin, "tgt", d, page=0, page_rows=10, sort="id", descending=True)
    assert [r[0] for r in page.rows] == [str(i) for i in range(120, 110, -1)] and page.has_more
    last = explorer.sample(rt, admin, "tgt", d, page=11, page_rows=10, sort="id")
    assert len(last.rows) == 10 and not last.has_more
    cats = explorer.sample(
        rt, admin, "tgt", d, page_rows=100, filters=[("species", "=", "cat"), ("id", "<", "30")]
    )
    assert len(cats.rows) == 9 and all(r[3] == "cat" for r in cats.rows)
    # A filter value is a bound parameter, never SQL.
    evil = explorer.sample(rt, admin, "tgt", d, filters=[("name", "=", "x' OR '1'='1")])
    assert evil.rows == ()
    contains = explorer.sample(
        rt, admin, "tgt", d, page_rows=200, filters=[("name", "contains", "PET 11")]
    )
    assert {r[2] for r in contains.rows} == {"pet 11", *(f"pet 11{i}" for i in range(10))}
    with pytest.raises(ValidationError):
        explorer.sample(rt, admin, "tgt", d, sort="id; DROP TABLE clinic.pets")
    with pytest.raises(ValidationError):
        explorer.sample(rt, admin, "tgt", d, filters=[("nope", "=", "1")])
    assert clinic.execute("SELECT count(*) FROM clinic.pets") == [(120,)]
    assert any(e.action == "explorer.sample" for e in audit.recent(rt.store, admin))


def test_sample_reads_in_a_read_only_transaction(rt: Runtime, admin: Actor, clinic: Target) -> None:
    clinic.execute(
        "CREATE TABLE public.writes_on_read (x text DEFAULT 'a'); "
        "CREATE VIEW public.writer AS SELECT x, "
        "(SELECT pg_catalog.nextval('clinic.ticket_seq')) AS n "
        "FROM public.writes_on_read"
    )
    clinic.execute("INSERT INTO public.writes_on_read DEFAULT VALUES")
    d = explorer.describe(rt, admin, "tgt", "public", "writer")
    with pytest.raises(Exception, match="read-only transaction"):
        explorer.sample(rt, admin, "tgt", d)


TABLES_FOR_DDL = ["clinic.owners", "clinic.pets", "clinic.visits", "clinic.visits_2024"]


def _normalised(d: explorer.TableDetail) -> dict[str, object]:
    keep = (
        "relkind",
        "persistence",
        "owner",
        "options",
        "partition_key",
        "partition_bound",
        "parents",
        "rls_enabled",
        "rls_forced",
        "replica_identity",
        "access_method",
        "comment",
    )
    return {
        "head": {k: d.head[k] for k in keep},
        "columns": d.columns,
        "constraints": d.constraints,
        "indexes": [{k: v for k, v in i.items() if k not in ("bytes", "scans")} for i in d.indexes],
        "triggers": d.triggers,
        "policies": d.policies,
        "grants": d.grants,
    }


def test_generated_ddl_round_trips_through_a_scratch_database(
    rt: Runtime, admin: Actor, clinic: Target, pg: PgServer
) -> None:
    clinic.execute(
        "CREATE TYPE public.mood2 AS ENUM ('a', 'b');"
        'CREATE TABLE clinic."Odd Name" ("select" int,'
        " t text COLLATE \"C\" DEFAULT 'x''y', m public.mood2 DEFAULT 'a',"
        ' g numeric GENERATED ALWAYS AS ("select" * 2) STORED,'
        " r tstzrange, EXCLUDE USING gist (r WITH &&)) WITH (fillfactor = 70);"
        'ALTER TABLE clinic."Odd Name" ALTER COLUMN t SET STORAGE EXTERNAL;'
        'ALTER TABLE clinic."Odd Name" ADD CONSTRAINT nv CHECK ("select" > 0) NOT VALID;'
        "CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN RETURN NEW; END$$;"
        'CREATE TRIGGER tr BEFORE INSERT ON clinic."Odd Name" FOR EACH ROW '
        "EXECUTE FUNCTION public.noop();"
        'ALTER TABLE clinic."Odd Name" DISABLE TRIGGER tr;'
        'ALTER TABLE clinic."Odd Name" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;'
        'CREATE POLICY p ON clinic."Odd Name" AS RESTRICTIVE FOR UPDATE USING ("select" > 1) '
        ' WITH CHECK ("select" > 2);'
        "COMMENT ON TABLE clinic.\"Odd Name\" IS 'it''s odd';"
        'CREATE INDEX odd_partial ON clinic."Odd Name" (lower(t)) WHERE "select" > 5;'
        "CREATE UNLOGGED TABLE clinic.scratch_log "
        "(id int, CONSTRAINT u UNIQUE NULLS NOT DISTINCT (id));"
        "ALTER TABLE clinic.scratch_log REPLICA IDENTITY FULL;"
        "CREATE TABLE clinic.child (extra int) INHERITS (clinic.owners);"
        "CREATE INDEX visits_at ON clinic.visits (at);"
    )
    names = [*TABLES_FOR_DDL, 'clinic."Odd Name"', "clinic.scratch_log", "clinic.child"]
    before = {}
    for qualified in names:
        schema, _, table = qualified.partition(".")
        d = explorer.describe(rt, admin, "tgt", schema, table.strip('"'))
        before[qualified] = (d.ddl, _normalised(d))
    # The scratch database gets everything but the tables, then the generated DDL.
    scratch = pg.create_database()
    try:
        with psycopg.connect(pg.admin_url(scratch), autocommit=True) as conn:
            conn.execute(
                "CREATE SCHEMA clinic; CREATE TYPE public.mood2 AS ENUM ('a', 'b');"
                "CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql "
                "AS $$BEGIN RETURN NEW; END$$;"
            )
            for qualified in names:
                conn.execute(before[qualified][0])
        connections.add(rt, admin, "scratch", pg.admin_url(scratch))
        for qualified in names:
            schema, _, table = qualified.partition(".")
            again = explorer.describe(rt, admin, "scratch", schema, table.strip('"'))
            assert again.ddl == before[qualified][0], qualified
            assert _normalised(again) == before[qualified][1], qualified
    finally:
        pg.drop_database(scratch)
