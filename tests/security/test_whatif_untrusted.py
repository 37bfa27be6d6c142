"""Statement statistics are untrusted (reliability U2): the index what-if never plans another
user's code, is dba-only and audited.

A plain login on the target database (mallory) plants an IMMUTABLE function that, whenever it
runs, advances a sequence mallory owns and records the row count of a table mallory cannot read;
mallory then runs statements that call it directly, through a view, and through a partial index
on its own table, so they land in pg_stat_statements. A control first proves that planning such a
statement with the connection's rights does run the function. The what-if must refuse all of
them (the sequence never moves), still verify a clean statement, refuse viewers and analysts, and
audit every attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba.db.target.session import session
from petcare_dba.errors import PermissionDenied, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import indexes
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import trust
from tests.fix_monitoring import Target, has_pg_stat_statements, target_db

__all__ = ["target_db"]

PLANT = (
    "CREATE TABLE m.trail (n bigint)",
    "CREATE SEQUENCE m.hits",
    "CREATE TABLE m.items (a int, b int, c text)",
    "INSERT INTO m.items SELECT g, g % 500, 'x' FROM generate_series(1, 20000) g",
    "ANALYZE m.items",
    "CREATE FUNCTION m.record(n bigint) RETURNS int SECURITY DEFINER LANGUAGE sql "
    "AS $$ INSERT INTO m.trail VALUES (n) RETURNING 1 $$",
    """CREATE FUNCTION m.leak() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM nextval('m.hits');
         BEGIN
           PERFORM m.record((SELECT count(*) FROM public.secret_cards));
           RAISE NOTICE 'secret rows: %', (SELECT count(*) FROM public.secret_cards);
         EXCEPTION WHEN insufficient_privilege THEN NULL;
         END;
         RETURN 1;
       END $$""",
    "CREATE FUNCTION m.note() RETURNS int SECURITY DEFINER LANGUAGE sql "
    "AS $$ SELECT nextval('m.hits')::int $$",
    "CREATE FUNCTION m.leak2() RETURNS int IMMUTABLE LANGUAGE sql AS $$ SELECT m.note() $$",
    "CREATE VIEW m.v AS SELECT a FROM m.items WHERE m.leak() = 1",
    "CREATE TABLE m.partial (a int, b int)",
    "INSERT INTO m.partial SELECT g, g % 300 FROM generate_series(1, 5000) g",
    "CREATE INDEX ON m.partial (a) WHERE m.leak() = 1",
    "ANALYZE m.partial",
    "CREATE FUNCTION m.eq(int, int) RETURNS bool IMMUTABLE LANGUAGE sql "
    "AS $$ SELECT m.leak() = 1 $$",
    "CREATE OPERATOR m.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = m.eq)",
    "CREATE DOMAIN m.d AS int CHECK (VALUE = m.leak())",
    "CREATE TABLE m.typed (a m.d, b int)",
    "CREATE TABLE m.guarded (a int, b int)",
    "ALTER TABLE m.guarded ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY p ON m.guarded USING (m.leak() = 1)",
    "CREATE FUNCTION m.lower(int) RETURNS text IMMUTABLE LANGUAGE sql "
    "AS $$ SELECT m.leak()::text $$",
)

# Statements mallory runs (they reach pg_stat_statements) and the what-if must not plan.
HOSTILE = (
    "SELECT * FROM m.items WHERE a = m.leak()",
    "SELECT * FROM m.items WHERE b = 7 AND a = m.leak2()",
    "SELECT * FROM m.items WHERE b = 7 AND a IN (SELECT a FROM m.v)",
    "SELECT * FROM m.partial WHERE b = 7",
)
# Further texts the guard must refuse (checked directly; not all plant a runnable call).
REFUSED_TEXTS = (
    *HOSTILE,
    "SELECT * FROM m.items WHERE a OPERATOR(m.===) 1 AND b = $1",
    "SELECT * FROM m.items WHERE b = $1::m.d",
    "SELECT * FROM m.typed WHERE b = $1",
    "SELECT * FROM m.guarded WHERE b = $1",
    "SELECT * FROM m.items WHERE b = $1 "
    "AND c = query_to_xml('select m.leak()', true, true, '')::text",
    "SELECT * FROM m.items WHERE c = lower(a) AND b = $1",  # m.lower when m is on the path
    "SELECT * FROM m.items WHERE b = $1 AND a = nosuchfunction()",
    "SELECT * FROM m.nosuchtable WHERE b = $1",
    "WITH x AS (SELECT m.leak() AS a) SELECT * FROM m.items WHERE a = (SELECT a FROM x)",
)
CLEAN = "SELECT * FROM public.visits WHERE pet_id = 42"


@dataclass
class Planted:
    target: Target
    mallory_url: str

    def hits(self) -> int:
        row = self.target.value("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM m.hits")
        return int(row)  # type: ignore[call-overload]

    def trail(self) -> int:
        return int(self.target.value("SELECT count(*) FROM m.trail"))  # type: ignore[call-overload]


@pytest.fixture
def planted(target_db: Target) -> Iterator[Planted]:
    role = "mallory_" + uuid.uuid4().hex[:8]
    tgt = target_db
    tgt.execute(
        f"CREATE ROLE {role} LOGIN PASSWORD 'Mallory-pw-1'",
        f"CREATE SCHEMA m AUTHORIZATION {role}",
        "CREATE TABLE public.secret_cards (number text)",
        "INSERT INTO public.secret_cards SELECT 'card' FROM generate_series(1, 37)",
        "CREATE TABLE public.visits (id bigint PRIMARY KEY, pet_id int, at date)",
        "INSERT INTO public.visits SELECT g, g % 5000, date '2024-01-01' + g % 700 "
        "FROM generate_series(1, 100000) g",
        "ANALYZE public.visits",
    )
    parts = urlsplit(tgt.url)
    url = urlunsplit(parts._replace(netloc=f"{role}:Mallory-pw-1@{parts.hostname}:{parts.port}"))
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in PLANT:
            conn.execute(statement.encode())
    try:
        yield Planted(tgt, url)
    finally:
        tgt.execute(f"DROP SCHEMA m CASCADE; DROP OWNED BY {role}; DROP ROLE {role}")


def _control(p: Planted) -> None:
    """Planning a hostile statement as the connection's role does run mallory's function."""
    before = p.hits()
    with psycopg.connect(p.target.url, autocommit=True) as conn:
        conn.execute("SET pg_stat_statements.track = none") if _pgss(p) else None
        conn.execute(b"PREPARE ctl AS SELECT * FROM m.items WHERE a = m.leak()")
        conn.execute(b"EXPLAIN EXECUTE ctl")
    assert p.hits() > before, "the control did not run the planted function: the test is void"


def _pgss(p: Planted) -> bool:
    return has_pg_stat_statements(p.target.url)


def test_the_guard_refuses_every_hostile_text_and_passes_a_clean_one(planted: Planted) -> None:
    _control(planted)
    hits, trail = planted.hits(), planted.trail()
    with session(planted.target.url, "petcare-dba/test") as s:
        s.setting("search_path", "m, public")
        for text in REFUSED_TEXTS:
            assert trust.refusals(s, text), f"not refused: {text}"
        s.setting("search_path", "public")
        assert trust.refusals(s, CLEAN) == []
        assert trust.refusals(s, "SELECT * FROM visits WHERE at BETWEEN $1 AND $2") == []
    assert (planted.hits(), planted.trail()) == (hits, trail)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1; DROP TABLE public.visits",
        "SELECT * FROM t WHERE a = $1; COMMIT",
        "",
        "SELECT * FROM t WHERE a = $1 -- ) ; DROP TABLE t",
    ],
)
def test_the_prepared_text_is_the_checked_statement(text: str) -> None:
    if text.endswith("DROP TABLE t"):
        wrapped = indexes.prepared_text(text)
        assert wrapped == "PREPARE petcare_whatif AS SELECT * FROM t WHERE a = $1"
        return
    with pytest.raises(ValidationError):
        indexes.prepared_text(text)


def test_the_what_if_never_plans_planted_code_is_dba_only_and_audited(
    rt: Runtime, admin: Actor, planted: Planted, make_user
) -> None:  # type: ignore[no-untyped-def]
    if not _pgss(planted):
        # Without the preload (the machine's PostgreSQL 15 in CI) there are no statement
        # statistics to distrust: the gate still holds and nothing planted runs. The full case
        # runs on the embedded server, which preloads pg_stat_statements.
        hits, trail = planted.hits(), planted.trail()
        for role in ("viewer", "analyst"):
            user = make_user(f"{role[:4]}x", role)
            with pytest.raises(PermissionDenied, match="dba"):
                indexes.suggest(rt, user, "tgt", min_mean_ms=0, limit=50)
        with pytest.raises(ValidationError, match="pg_stat_statements"):
            indexes.suggest(rt, make_user("dora", "dba"), "tgt", min_mean_ms=0, limit=50)
        assert (planted.hits(), planted.trail()) == (hits, trail), "planted code ran"
        return
    tgt = planted.target
    tgt.execute("CREATE EXTENSION pg_stat_statements", "SELECT pg_stat_statements_reset()")
    with psycopg.connect(planted.mallory_url, autocommit=True) as conn:
        for statement in HOSTILE:
            conn.execute(statement.encode())
    tgt.execute(CLEAN)
    _control(planted)
    hits, trail = planted.hits(), planted.trail()

    for role in ("viewer", "analyst"):
        user = make_user(f"{role[:4]}x", role)
        with pytest.raises(PermissionDenied, match="dba"):
            indexes.suggest(rt, user, "tgt", min_mean_ms=0, limit=50)
    assert not audit.recent(rt.store, admin, action="advisor.whatif")

    dba = make_user("dora", "dba")
    found = indexes.suggest(rt, dba, "tgt", min_mean_ms=0, limit=50)
    assert (planted.hits(), planted.trail()) == (hits, trail), "planted code ran"
    clean = [s for s in found if s.table == "public.visits"]
    assert clean and clean[0].verified_by and clean[0].gain_pct, found
    refused = [s for s in found if s.table.startswith("m.")]
    assert refused and all(s.verified_by is None and "not planned" in s.note for s in refused), (
        refused
    )

    rows = audit.recent(rt.store, admin, action="advisor.whatif")
    by_outcome: dict[str, list[str]] = {}
    for row in rows:
        by_outcome.setdefault(row.outcome, []).append(row.sql_text or "")
    assert any("m.leak()" in t for t in by_outcome.get("refused", []))
    assert any("public.visits" in t for t in by_outcome.get("ok", []))
    assert len(by_outcome["intent"]) == len(by_outcome.get("ok", [])) + len(
        by_outcome.get("refused", [])
    ) + len(by_outcome.get("error", []))
    assert all(row.username == "dora" for row in rows)
