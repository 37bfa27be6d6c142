"""Same text, same lexer (reliability Q12), resource limits and a truthful audit (issue 12).

A target database or login role whose standard_conforming_strings is off, or whose client
encoding is SJIS, must not make the server read user text differently from the classifier:
every statement returns exactly the string literals pglast saw. A dba who changes a lexing
setting mid-script or mid-transaction cannot make a later statement be read differently. The
role's temp_file_limit and work_mem ceiling are applied when the login role may set them (and
said when not); an export never outlives the editor's statement timeout and every way it ends
is audited; a statement audited read-only ran in a READ ONLY transaction.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from petcare_dba.db.target import executor, guards
from petcare_dba.errors import PetcareError, QueryCancelled, QueryTimeout, Refused
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, export, transaction
from petcare_dba.services.sql.parse import split
from tests.fix_db import PgServer, with_db
from tests.fix_engine import tune

PASSWORD = "Lx-7-lexer-harbor"
HIDE = "SELECT 'a\\' , ' , {code} , '' --'"
LEXER_PAYLOADS = [
    HIDE.format(code="pg_advisory_lock(4242)"),
    HIDE.format(code="pg_read_file($$postgresql.auto.conf$$)"),
    HIDE.format(code="(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity)"),
    HIDE.format(code="pg_sleep(0)::text"),
    "SELECT 'x\\' AS a, ' , pg_advisory_lock(7) AS b, ' AS c --'",
    "SELECT E'\u00a5' , ' , pg_advisory_lock(4243) , '' --'",
    "SELECT 'C:\\temp\\' AS path, '\\n' AS n",
]


@dataclass
class Lexed:
    """A target whose database or role lexes with standard_conforming_strings off."""

    name: str
    url: str  # as its login role
    admin_url: str
    role: str
    dbname: str
    read_role: str  # the least-privilege read credential viewers run as (Q3)
    read_url: str

    def advisory_locks(self) -> int:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND d.datname = %s",
                (self.dbname,),
            ).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(params=["database", "role"])
def lexed(
    request: pytest.FixtureRequest, pg: PgServer, rt: Runtime, admin: Actor
) -> Iterator[Lexed]:
    """A target with standard_conforming_strings off at database or role level (role: SJIS too)."""
    dbname = pg.create_database()
    role = f"lx_{uuid.uuid4().hex[:10]}"
    admin_url = pg.admin_url(dbname)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        ident = sql.Identifier(role)
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(PASSWORD))
        )
        for power in ("pg_read_server_files", "pg_signal_backend"):
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(power), ident))
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(ident))
        # Viewers run as a least-privilege read role (Q3) with the same hostile settings: a
        # smuggled pg_advisory_lock would still show on it.
        read = sql.Identifier(role + "_ro")
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(read, sql.Literal(PASSWORD))
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), read)
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(read))
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT ON TABLES TO {}"
            ).format(ident, read)
        )
        if request.param == "database":
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(
                    sql.Identifier(dbname)
                )
            )
        else:
            for who in (ident, read):
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET standard_conforming_strings = off").format(who)
                )
                conn.execute(sql.SQL("ALTER ROLE {} SET client_encoding = 'SJIS'").format(who))
    params = psycopg.conninfo.conninfo_to_dict(with_db(pg.url, dbname))
    params.update(user=role, password=PASSWORD)
    url = psycopg.conninfo.make_conninfo(**params)
    params.update(user=role + "_ro")
    read_url = psycopg.conninfo.make_conninfo(**params)
    connections.add(rt, admin, "lexed", url, shared=True, read_url=read_url)
    yield Lexed("lexed", url, admin_url, role, dbname, role + "_ro", read_url)
    engine.close(rt)
    pg.drop_database(dbname)
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        for name in (role + "_ro", role):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _literals(text: str) -> tuple[Any, ...]:
    """The values pglast reads for a SELECT of string constants."""
    node = split(text)[0].node
    return tuple(t.val.val.sval for t in node.targetList)


def test_the_target_really_lexes_differently_without_the_pins(lexed: Lexed) -> None:
    # The attack this file defends against works on a plain connection of the same role.
    # (With SJIS, backslash_quote=safe_encoding refuses `\'` outright, hence UTF8 here.)
    with psycopg.connect(lexed.url, autocommit=True, client_encoding="UTF8") as conn:
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        cur = executor.ExtendedCursor(conn)
        cur.execute(HIDE.format(code="pg_advisory_lock(99)"))
        assert cur.fetchone() != _literals(HIDE.format(code="pg_advisory_lock(99)"))
        conn.execute("SELECT pg_advisory_unlock_all()")


@pytest.mark.parametrize("role", ["viewer", "dba"])
@pytest.mark.parametrize("mode", ["transaction", "statements"])
def test_lexer_payloads_return_the_literals_the_classifier_saw(
    rt: Runtime, make_user: Any, lexed: Lexed, role: str, mode: str
) -> None:
    actor = make_user(f"u_{role}", role)
    for payload in LEXER_PAYLOADS:
        found = engine.classify(payload)
        assert len(found) == 1 and found[0].read_only, f"not only literals: {payload}"
        result = engine.run(rt, actor, "lexed", payload, mode=mode).raise_for_error()
        assert result.results[0].rows == (_literals(payload),), payload
        assert lexed.advisory_locks() == 0


def test_explicit_transaction_reads_the_text_as_classified(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    dora = make_user("dora", "dba")
    tx = transaction.ExplicitTransaction(rt, dora, "lexed")
    try:
        for payload in LEXER_PAYLOADS:
            assert tx.run(payload).raise_for_error().results[0].rows == (_literals(payload),)
    finally:
        tx.close()
    assert lexed.advisory_locks() == 0


def test_export_reads_the_text_as_classified(rt: Runtime, make_user: Any, lexed: Lexed) -> None:
    vera = make_user("vera", "viewer")
    payload = HIDE.format(code="pg_advisory_lock(4242)")
    out = io.BytesIO()
    export.export(rt, vera, "lexed", payload, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert rows[1:] == [list(_literals(payload))]
    assert lexed.advisory_locks() == 0


def test_a_dba_who_turns_the_setting_off_cannot_smuggle_a_later_statement(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    dora = make_user("dora", "dba")
    hidden = HIDE.format(code="pg_advisory_lock(4250)")
    # one script, one transaction: statement 2 is refused before it is sent
    result = engine.run(
        rt, dora, "lexed", f"SET standard_conforming_strings = off; {hidden}", confirmed=True
    )
    assert isinstance(result.error, Refused) and "standard_conforming_strings" in str(result.error)
    assert lexed.advisory_locks() == 0
    # set_config inside a SELECT, then a backslash: same
    result = engine.run(
        rt,
        dora,
        "lexed",
        f"SELECT set_config('standard_conforming_strings', 'off', false); {hidden}",
        confirmed=True,
    )
    assert isinstance(result.error, Refused)
    assert lexed.advisory_locks() == 0
    # statement by statement: every statement's own transaction pins it again
    result = engine.run(
        rt,
        dora,
        "lexed",
        f"SET standard_conforming_strings = off; {hidden}",
        mode="statements",
        confirmed=True,
    ).raise_for_error()
    assert result.results[-1].rows == (_literals(hidden),)
    assert lexed.advisory_locks() == 0
    # text without a backslash or non-ASCII is read the same either way and still runs
    ok = engine.run(
        rt,
        dora,
        "lexed",
        "SET standard_conforming_strings = off; SELECT 'plain' AS p",
        confirmed=True,
    ).raise_for_error()
    assert ok.results[-1].rows == (("plain",),)


def test_explicit_transaction_refuses_after_a_change_until_it_is_set_back(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    dora = make_user("dora", "dba")
    hidden = HIDE.format(code="pg_advisory_lock(4251)")
    tx = transaction.ExplicitTransaction(rt, dora, "lexed")
    try:
        tx.run("SET client_encoding = 'SJIS'", confirmed=True).raise_for_error()
        with pytest.raises(Refused, match="client_encoding"):
            tx.run("SELECT E'\u00a5' , ' , pg_advisory_lock(4252) , '' --'").raise_for_error()
        tx.run("SET client_encoding = 'UTF8'", confirmed=True).raise_for_error()
        tx.run("SET standard_conforming_strings = off", confirmed=True).raise_for_error()
        with pytest.raises(Refused, match="standard_conforming_strings"):
            tx.run(hidden).raise_for_error()
        tx.run("SET standard_conforming_strings = on", confirmed=True).raise_for_error()
        assert tx.run(hidden).raise_for_error().results[0].rows == (_literals(hidden),)
    finally:
        tx.close()
    assert lexed.advisory_locks() == 0


def test_the_pins_hold_without_the_startup_client_encoding(lexed: Lexed) -> None:
    # A connection opened without client_encoding (role default SJIS for the role target):
    # the opening message alone must pin everything.
    limits = executor.Limits(5000, 1000, 60000, 10, 1 << 20)
    with psycopg.connect(lexed.url, autocommit=True) as conn:
        with executor.transaction(conn, limits, read_only=True):
            assert guards.drift(conn) == {}
            assert conn.info.encoding == "utf-8"
            payload = "SELECT E'\u00a5' , ' , pg_advisory_lock(4253) , '' --'"
            fetched = executor.execute(conn, payload, limits)
            assert fetched.rows == (_literals(payload),)
            backslash = conn.execute("SHOW backslash_quote").fetchone()
            assert backslash == ("safe_encoding",)
    assert lexed.advisory_locks() == 0


# -- resource limits -------------------------------------------------------------------------


def _settings_seen(rt: Runtime, actor: Actor, name: str) -> tuple[str, str]:
    row = engine.run(
        rt,
        actor,
        name,
        "SELECT current_setting('temp_file_limit'), current_setting('work_mem')",
    ).raise_for_error()
    return row.results[0].rows[0]


def test_role_limits_apply_when_the_login_role_may_set_them(
    rt: Runtime, make_user: Any, lexed: Lexed, pg: PgServer, admin: Actor
) -> None:
    vera = make_user("vera", "viewer")
    tune(rt, temp_file_limit_mb_viewer=1, work_mem_max_mb_viewer=1)
    # the read role is not superuser and has no grant: temp_file_limit is left alone
    assert _settings_seen(rt, vera, "lexed") == ("-1", "1MB")
    with psycopg.connect(lexed.read_url, autocommit=True) as conn:
        assert guards.may_set_temp_file_limit(conn) is False
    if pg.major >= 15:
        with psycopg.connect(lexed.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("GRANT SET ON PARAMETER temp_file_limit TO {}").format(
                    sql.Identifier(lexed.read_role)
                )
            )
        engine.close(rt)  # new connections ask again
        assert _settings_seen(rt, vera, "lexed") == ("1MB", "1MB")
        # a sort that spills more than 1 MB is stopped by PostgreSQL itself (53400)
        result = engine.run(
            rt, vera, "lexed", "SELECT g FROM generate_series(1, 300000) g ORDER BY g DESC"
        )
        assert result.error is not None and result.error.sqlstate == "53400"
        with psycopg.connect(lexed.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("REVOKE SET ON PARAMETER temp_file_limit FROM {}").format(
                    sql.Identifier(lexed.read_role)
                )
            )


def test_a_search_path_before_pg_catalog_cannot_replace_the_guards(
    rt: Runtime, admin: Actor, lexed: Lexed
) -> None:
    """A target's owner puts a schema with its own set_config ahead of pg_catalog: the
    engine's guards call pg_catalog's, so the timeouts and pins still hold."""
    with psycopg.connect(lexed.admin_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shadow")
        conn.execute(
            "CREATE FUNCTION shadow.set_config(text, text, boolean) RETURNS text "
            "LANGUAGE sql AS $$ SELECT 'shadowed'::text $$"
        )
        conn.execute("GRANT USAGE ON SCHEMA shadow TO PUBLIC")
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET search_path = shadow, pg_catalog, public").format(
                sql.Identifier(lexed.dbname)
            )
        )
    engine.close(rt)  # new sessions read the new search_path
    seen = engine.run(
        rt,
        admin,
        "lexed",
        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
        "current_setting('standard_conforming_strings'), current_setting('search_path')",
    ).raise_for_error()
    timeout, lock, strings, path = seen.results[0].rows[0]
    assert path.startswith("shadow")  # the hostile path is in force ...
    assert timeout != "0" and lock != "0" and strings == "on"  # ... and the guards held


def test_the_work_mem_ceiling_only_lowers(rt: Runtime, make_user: Any, lexed: Lexed) -> None:
    vera = make_user("vera", "viewer")
    tune(rt, work_mem_max_mb_viewer=1024)
    assert _settings_seen(rt, vera, "lexed")[1] == "4MB"  # the server's default stays
    tune(rt, work_mem_max_mb_viewer=0)
    assert _settings_seen(rt, vera, "lexed")[1] == "4MB"


# -- export: timeout, cancel, interruption, all audited ----------------------------------------


def _export_outcomes(rt: Runtime, actor: Actor) -> list[str]:
    from tests.fix_engine import events

    return [e.outcome for e in events(rt, actor)]


def test_export_never_outlives_the_editor_timeout(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    vera = make_user("vera", "viewer")
    tune(rt, statement_timeout_ms=400, export_statement_timeout_ms=600_000)
    with pytest.raises(QueryTimeout):
        export.export(rt, vera, "lexed", "SELECT pg_sleep(3)", io.BytesIO())
    assert _export_outcomes(rt, vera)[-2:] == ["intent", "timeout"]


def test_a_cancelled_export_is_audited_as_cancelled(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    vera = make_user("vera", "viewer")
    handle = engine.new_handle()
    timer = threading.Timer(0.5, engine.cancel, args=(handle,))
    timer.start()
    try:
        with pytest.raises(QueryCancelled):
            export.export(rt, vera, "lexed", "SELECT pg_sleep(5)", io.BytesIO(), handle=handle)
    finally:
        timer.cancel()
    assert _export_outcomes(rt, vera)[-2:] == ["intent", "cancelled"]


class _BrokenPipe(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        raise BrokenPipeError("the client went away")


def test_an_interrupted_export_still_gets_an_outcome(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    vera = make_user("vera", "viewer")
    with pytest.raises(BrokenPipeError):
        export.export(rt, vera, "lexed", "SELECT g FROM generate_series(1, 10) g", _BrokenPipe())
    assert _export_outcomes(rt, vera)[-2:] == ["intent", "cancelled"]
    # the pool is still usable afterwards
    out = io.BytesIO()
    assert export.export(rt, vera, "lexed", "SELECT 1 AS one", out).rows == 1


# -- the audit log tells the truth ------------------------------------------------------------

PROBE = "SELECT current_setting('transaction_read_only') AS ro"


def test_statements_audited_read_only_ran_in_read_only_transactions(
    rt: Runtime, make_user: Any, lexed: Lexed
) -> None:
    from tests.fix_engine import events

    vera, dora = make_user("vera", "viewer"), make_user("dora", "dba")
    seen: list[tuple[bool, str]] = []
    for actor, text, mode in [
        (vera, PROBE, "transaction"),
        (dora, PROBE, "statements"),
        (dora, f"{PROBE}; CREATE TEMP TABLE scratch (x int)", "transaction"),
        (dora, f"{PROBE}; CREATE TEMP TABLE scratch2 (x int)", "statements"),
    ]:
        result = engine.run(rt, actor, "lexed", text, mode=mode).raise_for_error()
        intents = [e for e in events(rt, actor) if e.outcome == "intent"]
        probe_intent = intents[-len(result.results)]
        seen.append((bool(probe_intent.detail.get("read_only")), result.results[0].rows[0][0]))
    for claimed, actual in seen:
        assert actual == ("on" if claimed else "off"), seen
    assert seen[0] == (True, "on") and seen[1] == (True, "on") and seen[2] == (False, "off")


def test_a_read_only_claim_outside_read_only_is_refused(lexed: Lexed) -> None:
    limits = executor.Limits(5000, 1000, 60000, 10, 1 << 20)
    with psycopg.connect(lexed.url, autocommit=True) as conn:
        with executor.transaction(conn, limits, read_only=False):
            with pytest.raises(Refused, match="READ ONLY"):
                executor.require_read_only(conn, True)
            executor.require_read_only(conn, False)
        with executor.transaction(conn, limits, read_only=True):
            executor.require_read_only(conn, True)
        with pytest.raises(PetcareError):
            executor.require_read_only(conn, True)  # no transaction open at all
