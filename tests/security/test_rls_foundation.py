"""Row level security of the metadata store (reliability R1, R3, R4) and the runtime role."""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.db.metastore import Identity
from petcare_dba.errors import PermissionDenied, PetcareError
from petcare_dba.services.runtime import Runtime


def test_every_table_has_rls_enabled_forced_and_policies(meta_url: str) -> None:
    with psycopg.connect(meta_url) as conn:
        rows = conn.execute("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policies p
                     WHERE p.schemaname = 'petcare' AND p.tablename = c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'petcare' AND c.relkind IN ('r', 'p') ORDER BY 1""").fetchall()
    assert len(rows) >= 15
    for name, enabled, forced, policies in rows:
        assert enabled and forced, name
        assert policies >= 1, name


def test_runtime_role_is_not_owner_superuser_or_bypassrls(rt: Runtime) -> None:
    with rt.store.tx(Identity(None)) as tx:
        row = tx.one("""
            SELECT current_user AS cu, session_user AS su, r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_tables t WHERE t.schemaname = 'petcare'
                      AND t.tableowner = current_user) AS owned
            FROM pg_roles r WHERE r.rolname = current_user""")
        login = tx.one(
            "SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = session_user"
        )
    assert row == {
        "cu": "petcare_app",
        "su": "petcare_login",
        "rolsuper": False,
        "rolbypassrls": False,
        "owned": 0,
    }
    assert login == {"rolsuper": False, "rolbypassrls": False, "rolinherit": False}


def test_identity_does_not_leak_across_pooled_connections(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    with rt.store.tx(admin.identity) as tx:
        assert tx.value("SELECT current_setting('app.user_id', true)") == str(admin.user_id)
    for _ in range(5):  # every pooled connection, in turn
        with rt.store.tx(Identity(None)) as tx:
            assert tx.value("SELECT current_setting('app.user_id', true)") in ("", None)
            assert tx.value("SELECT count(*) FROM petcare.users") == 0
            assert tx.value("SELECT current_user") == "petcare_app"


def test_query_without_identity_sees_no_rows(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    with rt.store.tx(Identity(None)) as tx:
        for table in (
            "users",
            "sessions",
            "connections",
            "audit_log",
            "projetos_analytics",
            "execucoes_scripts",
            "duvidas_analitics_ia",
        ):
            assert tx.value(f"SELECT count(*) FROM petcare.{table}") == 0, table


def test_password_hash_column_is_not_granted(rt: Runtime, admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied), rt.store.tx(admin.identity) as tx:
        tx.value("SELECT password_hash FROM petcare.users")


def test_login_role_alone_has_no_table_privileges(rt: Runtime) -> None:
    """petcare_login is NOINHERIT: after RESET ROLE it can read nothing."""
    with pytest.raises(PetcareError), rt.store.tx(Identity(None)) as tx:
        tx.execute("RESET ROLE")
        tx.value("SELECT count(*) FROM petcare.connections")


def test_non_admin_cannot_raise_own_role(rt: Runtime, make_user) -> None:  # type: ignore[no-untyped-def]
    vera = make_user("vera", "viewer")
    with pytest.raises(PermissionDenied), rt.store.tx(vera.identity) as tx:
        tx.execute(
            "UPDATE petcare.users SET role = 'admin' WHERE id = %(id)s", {"id": vera.user_id}
        )
