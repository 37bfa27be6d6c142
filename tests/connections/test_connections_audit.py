"""Stored connections (sealed, visible by RLS) and the audit log's chain and append-only rules."""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.errors import DatabaseError, NotFound, PermissionDenied, ValidationError
from petcare_dba.services import connections
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users
from tests.fix_db import PgServer


def test_connection_is_sealed_listed_without_password_and_checks(
    rt: Runtime, admin, pg: PgServer, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "self", pg.admin_url("postgres"), description="the test server")
    listed = connections.list_connections(rt, admin)
    assert [c.name for c in listed] == ["self"]
    assert ":" not in listed[0].display_url.split("@")[0].removeprefix("postgresql://")
    with psycopg.connect(meta_url) as conn:
        (blob,) = conn.execute("SELECT secret_enc FROM petcare.connections").fetchone()
    assert bytes(blob).startswith(b"PC1") and b"postgres" not in bytes(blob)
    result = connections.check(rt, admin, "self")
    assert result.ok and result.server_version and result.database == "postgres"


def test_private_connection_is_invisible_to_other_users(
    rt: Runtime, admin, make_user, pg: PgServer
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("vic", "viewer")
    connections.add(rt, admin, "private", pg.admin_url())
    connections.add(rt, admin, "team", pg.admin_url(), shared=True)
    assert [c.name for c in connections.list_connections(rt, viewer)] == ["team"]
    with pytest.raises(NotFound):
        connections.resolve_url(rt, viewer, "private")
    with pytest.raises(PermissionDenied):
        connections.add(rt, viewer, "mine", pg.admin_url())


def test_bad_urls_and_names_are_refused_without_echoing_secrets(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        connections.add(rt, admin, "bad", "postgresql://u:topsecret@/db?sslmode=nonsense x")
    assert "topsecret" not in info.value.message
    with pytest.raises(ValidationError):
        connections.add(rt, admin, "Bad Name", "postgresql://u@h/db")


def test_unreachable_connection_reports_an_error(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    connections.add(rt, admin, "down", "postgresql://u:pw@127.0.0.1:1/db?connect_timeout=2")
    result = connections.check(rt, admin, "down")
    assert not result.ok and result.error and "pw" not in result.error


def test_audit_is_append_only_for_the_app_role(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    audit.record(rt.store, admin, "test.event", "ok", sql_text="ALTER ROLE x PASSWORD 'hunter2'")
    entry = audit.recent(rt.store, admin, action="test.event")[0]
    assert "hunter2" not in (entry.sql_text or "")
    for statement in (
        "UPDATE petcare.audit_log SET outcome = 'ok'",
        "DELETE FROM petcare.audit_log",
        "TRUNCATE petcare.audit_log",
    ):
        with pytest.raises((PermissionDenied, DatabaseError)), rt.store.tx(admin.identity) as tx:
            tx.execute(statement)


def test_audit_triggers_stop_the_owner_and_verify_finds_a_superuser_edit(
    rt: Runtime, admin, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        audit.record(rt.store, admin, "test.event", "ok", detail={"i": i})
    assert audit.verify(rt.store, admin).ok
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute("SET ROLE petcare_owner")
        for statement in (
            "UPDATE petcare.audit_log SET outcome = 'error'",
            "DELETE FROM petcare.audit_log",
            "TRUNCATE petcare.audit_log",
        ):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)
        conn.execute("RESET ROLE")
        conn.execute("ALTER TABLE petcare.audit_log DISABLE TRIGGER USER")
        conn.execute("UPDATE petcare.audit_log SET outcome = 'error' WHERE chain_seq = 4")
        conn.execute("ALTER TABLE petcare.audit_log ENABLE TRIGGER USER")
    status = audit.verify(rt.store, admin)
    assert not status.ok and status.first_broken_seq == 4 and status.reason == "row altered"


def test_viewer_cannot_verify_or_read_others_audit(rt: Runtime, admin, make_user) -> None:  # type: ignore[no-untyped-def]
    viewer = make_user("val", "viewer")
    audit.record(rt.store, admin, "admin.only", "ok")
    assert all(e.username == "val" for e in audit.recent(rt.store, viewer))
    with pytest.raises(PermissionDenied):
        audit.verify(rt.store, viewer)
    assert users.get_user(rt, viewer, "admin").role == "admin"
