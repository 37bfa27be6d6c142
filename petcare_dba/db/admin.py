"""Tasks that need the metadata store's admin (migrator) connection rather than the runtime role.

Creating databases, the first admin (before any identity exists), the first data key, and the
demo database's own login role. The admin URL's role is a superuser or has BYPASSRLS (true for
the embedded server, a local `postgres`, and Supabase's `postgres`); docs/security.md says why
these few steps cannot run as petcare_app.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translated


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10)


def ensure_database(url: str, name: str) -> bool:
    """Create database `name` on the server of `url` if missing; True when created."""
    with translated(), _connect(url) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def insert_key(url: str, version: int, wrapped_dek: bytes, kek_id: str) -> None:
    """Store the first wrapped data key."""
    with translated(), _connect(url) as conn:
        conn.execute(
            queries.get("key_insert"),
            {"version": version, "wrapped_dek": wrapped_dek, "kek_id": kek_id},
        )


def first_admin(url: str) -> int | None:
    """Id of the oldest enabled admin, or None."""
    with translated(), _connect(url) as conn:
        row = conn.execute(queries.get("user_first_admin")).fetchone()
    return None if row is None else int(row[0])


def create_first_admin(url: str, username: str, password_hash: str) -> int:
    """Insert the first admin (only called when no enabled admin exists)."""
    with translated(), _connect(url) as conn:
        row = conn.execute(
            queries.get("user_insert_bootstrap"),
            {"username": username, "display_name": "Administrator", "password_hash": password_hash},
        ).fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return int(row[0])


def ensure_login_role(
    url: str, role: str, password: str, *, grants: tuple[str, ...] = (), database: str | None = None
) -> None:
    """Create or update a LOGIN role with a password and member grants; own `database`."""
    with translated(), _connect(url) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        for granted in grants:
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(granted), sql.Identifier(role))
            )
        if database:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )


def apply_audit_limits(url: str, refusals_per_minute: int, sql_prefix_bytes: int) -> None:
    """Write the audit bounds the database enforces (petcare.audit_limits) from the settings."""
    with translated(), _connect(url) as conn:
        conn.execute(
            queries.get("audit_limits_apply"),
            {"refusals_per_minute": refusals_per_minute, "sql_prefix_bytes": sql_prefix_bytes},
        )
