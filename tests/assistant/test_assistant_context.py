"""The context fits its token budget on a 10,000-table schema and holds the tables asked about.

Ranking by name, column and comment relevance, foreign-key neighbours, and the budget, checked on
a generated schema (reliability: "Chat2DB fails on big schemas").
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import context, safety
from petcare_dba.services.assistant.context import TableEntry
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer
from tests.security.c_privilege_fixtures import drop_login_role, read_role

BATCH = """
DO $$
BEGIN
  FOR i IN %s..%s LOOP
    EXECUTE format('CREATE TABLE public.%%I (id bigint PRIMARY KEY, code text, amount numeric,
                    created_at timestamptz)', 'module_' || lpad(i::text, 5, '0') || '_data');
  END LOOP;
END $$;
"""
NAMED = """
CREATE TABLE public.customers (id bigint PRIMARY KEY, display_name text, email text);
CREATE TABLE public.invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers,
                              total numeric, due_date date);
COMMENT ON TABLE public.invoices IS 'Bills sent to customers';
CREATE TABLE public.payments (id bigint PRIMARY KEY, invoice_id bigint REFERENCES invoices,
                              paid_at timestamptz, amount numeric);
CREATE TABLE public.audit_trail (id bigint PRIMARY KEY, note text);
COMMENT ON COLUMN public.audit_trail.note IS 'who settled which invoice';
"""


@pytest.fixture
def big_schema(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[str]:
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        # Batches keep each transaction's locks under max_locks_per_transaction.
        for start in range(1, 10_001, 500):
            conn.execute((BATCH % (start, start + 499)).encode())
        conn.execute(NAMED.encode())
    read_url = read_role(url)  # the assistant reads only as a least-privilege role (Q3)
    connections.add(rt, admin, "big", url, read_url=read_url)
    yield "big"
    engine.close(rt)
    pg.drop_database(dbname)
    drop_login_role(pg.admin_url(), read_url)


@pytest.mark.slow
def test_context_fits_the_budget_on_ten_thousand_tables(
    rt: Runtime, admin: Actor, big_schema: str
) -> None:
    conn = connections.get(rt, admin, big_schema)
    ctx = context.build(
        rt,
        admin,
        conn,
        "Which invoices are still unpaid, and by which customers?",
        boundary=safety.new_boundary(),
        budget=4000,
    )
    assert ctx.tokens <= 4000
    assert ctx.tables[:2] == ("public.invoices", "public.customers")
    assert "public.payments" in ctx.tables  # pulled in as a foreign-key neighbour
    assert "TABLE public.invoices" in ctx.text and "customer_id bigint" in ctx.text
    assert ctx.omitted > 9000 and "call list_tables" in ctx.text
    # The second question is answered from the cached index, not a second catalogue read;
    # speed itself is measured in bench/, never by a wall clock in a test.
    hits, misses = rt.cache.hits, rt.cache.misses
    again = context.build(rt, admin, conn, "module_04242_data rows?", boundary="b", budget=4000)
    assert again.tables[0] == "public.module_04242_data" and again.tokens <= 4000
    assert rt.cache.misses == misses and rt.cache.hits > hits


def entry(name: str, columns: tuple[str, ...] = ("id",), refs: tuple[str, ...] = ()) -> TableEntry:
    return TableEntry("public", name, "", 0, columns, "", refs)


def test_ranking_matches_names_plurals_portuguese_columns_and_neighbours() -> None:
    entries = [
        entry("clinics"),
        entry("pets", ("id", "species", "tutor_id"), ("public.tutors",)),
        entry("tutors", ("id", "email")),
        entry("vaccinations", ("id", "pet_id"), ("public.pets",)),
        entry("zebra"),
    ]
    ranked = [e.name for e, s in context.rank(entries, "quantos pets por clínica?") if s > 0]
    assert ranked[:2] == ["pets", "clinics"] and "tutors" in ranked and "zebra" not in ranked
    by_column = context.rank(entries, "which rows have a species?")
    assert by_column[0][0].name == "pets"
