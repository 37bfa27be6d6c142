"""C5: after a session that exercises every path, no password or `password=` anywhere.

Logs in and fails a login through the real UI (AppTest), adds and tests connections whose URLs
carry a password (one good, one with a wrong password, one unreachable), runs a failing query,
then greps the application logs (caplog), the session state, the audit log rows and every error
text for the password and for `password=`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from streamlit.testing.v1 import AppTest

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_db import ADMIN_PASSWORD, PgServer
from tests.fix_ui import sign_in

DB_PASSWORD = "Leak-Pw-4471-zq"


def test_no_password_in_logs_state_audit_or_errors(
    app: Callable[[], AppTest],
    rt: Runtime,
    admin: Actor,
    pg: PgServer,
    meta_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    role = "leak_" + uuid.uuid4().hex[:8]
    dbname = pg.create_database()
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(DB_PASSWORD)
            )
        )
        conn.execute(
            sql.SQL("GRANT ALL ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )
    parts = urlsplit(pg.admin_url(dbname))
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    good = f"postgresql://{role}:{DB_PASSWORD}@{host}/{dbname}"
    wrong = f"postgresql://{role}:{DB_PASSWORD}x@{host}/{dbname}"
    unreachable = f"host=127.0.0.1 port=1 user={role} password={DB_PASSWORD} connect_timeout=2"
    texts: list[str] = []
    try:
        # the UI: a failed login typed with the DB password, then a real sign-in
        at = sign_in(app(), "admin", DB_PASSWORD)
        texts += [e.value for e in at.error]
        at = sign_in(app(), "admin", ADMIN_PASSWORD)
        assert not at.exception
        connections.add(rt, admin, "leaky", good, shared=True)
        at.switch_page("pages/connections.py").run()
        texts += [str(x.value) for x in at.error] + [str(x.value) for x in at.exception]
        connections.add(rt, admin, "wrongpw", wrong)
        for name in ("leaky", "wrongpw"):
            result = connections.check(rt, admin, name)
            texts.append(str(result))
        assert connections.check(rt, admin, "leaky").ok
        try:
            connections.add(rt, admin, "down", unreachable)
            texts.append(str(connections.check(rt, admin, "down")))
        except PetcareError as exc:
            texts.append(str(exc.as_dict()))
        for statement in ("SELECT 1/0", "SELECT * FROM missing_table", "SELECT 1"):
            try:
                engine.run(rt, admin, "leaky", statement)
            except PetcareError as exc:
                texts.append(str(exc.as_dict()))
        try:
            connections.add(rt, admin, "leaky", good)  # duplicate: an error that quotes input
        except PetcareError as exc:
            texts.append(str(exc.as_dict()))
        state = {k: repr(at.session_state[k]) for k in at.session_state}
        assert rt.deferred.settle()  # every outcome row is written before the log is searched
        with psycopg.connect(meta_url) as conn:
            audit_rows = [
                r[0] for r in conn.execute("SELECT to_jsonb(a)::text FROM petcare.audit_log a")
            ]
            login_rows = [
                r[0] for r in conn.execute("SELECT to_jsonb(l)::text FROM petcare.login_attempts l")
            ]
        haystacks = {
            "logs": caplog.text,
            "session_state": repr(state),
            "audit": "\n".join(audit_rows),
            "login_attempts": "\n".join(login_rows),
            "errors": "\n".join(texts),
        }
        assert audit_rows and texts and state
        for where, text in haystacks.items():
            assert DB_PASSWORD not in text, where
            assert "password=" not in text.lower().replace(" ", ""), where
            assert ADMIN_PASSWORD not in text, where
    finally:
        engine.close(rt)
        pg.drop_database(dbname)
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
