"""Fixtures of the classifier red-team tests: a target with hostile objects and a low-rights login.

`hostile` creates a fresh target database holding table t, sequence s, a large object, and the
objects an attacker who can create functions would plant: a volatile writer, a function that
lies about being IMMUTABLE, a `public.pg_sleep(text)` that shadows the builtin, a default
argument that calls nextval, an operator and a cast whose functions write. It registers two
connections: `tgt` (the superuser URL, as engine tests do) and `low` (a login role with SELECT
on t only: no superuser, no BYPASSRLS, no predefined roles), the way a viewer should reach a
database (issue 12, reliability Q3). `snapshot` captures everything a payload could change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer

LO_OID = 424242
LO_TEXT = b"large object secret"

SETUP = f"""
CREATE TABLE t (id int PRIMARY KEY, note text);
INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE SEQUENCE s;
CREATE FUNCTION public.pure_fn(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE FUNCTION public.stable_fn() RETURNS bigint LANGUAGE sql STABLE
    AS 'SELECT count(*) FROM t';
CREATE FUNCTION public.evil() RETURNS int LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN INSERT INTO t VALUES (100, 'evil'); RETURN 1; END $$;
CREATE FUNCTION public.imm_liar() RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN DELETE FROM t; RETURN 1; END $$;
CREATE FUNCTION public.pg_sleep(x text) RETURNS void LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN DELETE FROM t; END $$;
CREATE FUNCTION public.def_arg(a bigint DEFAULT nextval('s')) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE FUNCTION public.op_writer(a int, b int) RETURNS int LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN INSERT INTO t VALUES (200, 'op'); RETURN a + b; END $$;
CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = public.op_writer);
CREATE TYPE public.box2 AS (a int);
CREATE FUNCTION public.to_box2(int) RETURNS public.box2 LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN INSERT INTO t VALUES (300, 'cast'); RETURN ROW($1)::public.box2; END $$;
CREATE CAST (int AS public.box2) WITH FUNCTION public.to_box2(int);
SELECT lo_from_bytea({LO_OID}, '{LO_TEXT.decode()}'::bytea);
"""
LOW_ROLE_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT ON t TO {role};
GRANT SELECT ON LARGE OBJECT {oid} TO {role};
"""


@dataclass
class Hostile:
    """The hostile target as its superuser sees it."""

    dbname: str
    url: str
    low_role: str

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def snapshot(self) -> dict[str, Any]:
        """Everything a payload could have changed: rows, sequence, large objects, objects,
        stored settings, and the role's rights."""
        return {
            "t": self.rows("SELECT id, note FROM t ORDER BY id"),
            "s": self.rows("SELECT last_value, is_called FROM s"),
            "lo": self.rows("SELECT loid, pageno, data FROM pg_largeobject ORDER BY loid, pageno"),
            "objects": self.rows(
                "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                " ORDER BY 1"
            ),
            "functions": self.rows(
                "SELECT proname, provolatile FROM pg_proc"
                " WHERE pronamespace = 'public'::regnamespace ORDER BY 1"
            ),
            "settings": self.rows("SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting"),
            "servers": self.rows("SELECT srvname FROM pg_foreign_server"),
            "role": self.rows(
                "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s",
                (self.low_role,),
            ),
        }


def _with_user(url: str, user: str, password: str, dbname: str) -> str:
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, ""))


@pytest.fixture
def hostile(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[Hostile]:
    """A target with hostile objects, as connections `tgt` (superuser) and `low` (least rights)."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    role = "low_" + uuid.uuid4().hex[:10]
    password = uuid.uuid4().hex
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(role), psycopg.sql.Literal(password)
            )
        )
        conn.execute(LOW_ROLE_GRANTS.format(role=role, oid=LO_OID))
    connections.add(rt, admin, "tgt", url, shared=True)
    connections.add(rt, admin, "low", _with_user(url, role, password, dbname), shared=True)
    yield Hostile(dbname, url, role)
    engine.close(rt)
    pg.drop_database(dbname)
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(role)))


@pytest.fixture
def classify_cli(test_settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Typer app with the sql commands, configured for this test's metadata store."""
    import typer

    from petcare_dba.cli import common
    from petcare_dba.cli import sql as sql_cli
    from tests.fix_db import RUNTIME_PASSWORD

    for key, value in {
        "PETCARE_DATABASE_URL": test_settings.database_url,
        "PETCARE_RUNTIME_PASSWORD": RUNTIME_PASSWORD,
        "PETCARE_SECRET_KEY": test_settings.secret_key,
        "PETCARE_DATA_DIR": str(test_settings.data_dir),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PETCARE_CONFIG", raising=False)
    monkeypatch.setitem(common.STATE, "overrides", {})
    app = typer.Typer()
    sql_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps `sql` and `classify` as sub-commands
        """Test app."""

    return app
