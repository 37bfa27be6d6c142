"""Tasks that need the metadata store's admin (migrator) connection rather than the runtime role.

Creating databases, the first admin (before any identity exists), the first data key, and the
demo database's own login role. The admin URL's role is a superuser or has BYPASSRLS (true for
the embedded server, a local `postgres`, and Supabase's `postgres`); docs/security.md says why
these few steps cannot run as petcare_app. Each takes the deployment's `Names` (store prefix).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translate, translated
from petcare_dba.db.naming import DEFAULT, Names
from petcare_dba.errors import ConfigError


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


def insert_key(
    url: str, version: int, wrapped_dek: bytes, kek_id: str, *, names: Names = DEFAULT
) -> None:
    """Store the first wrapped data key."""
    with translated(), _connect(url) as conn:
        conn.execute(
            queries.get("key_insert", names),
            {"version": version, "wrapped_dek": wrapped_dek, "kek_id": kek_id},
        )


def key_versions(url: str, *, names: Names = DEFAULT) -> list[dict[str, Any]]:
    """The stored (wrapped) data keys, read before migrations; [] on a store not yet created."""
    with translated(), _connect(url) as conn:
        exists = conn.execute(
            "SELECT to_regclass(%s)", (f'"{names.schema}".encryption_keys',)
        ).fetchone()
        if not exists or exists[0] is None:
            return []
        cur = conn.execute(queries.get("key_versions", names))
        columns = [c.name for c in cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def check_login(url: str, connect_timeout: int = 10) -> None:
    """Connect once as the runtime role; a password the server rejects is a ConfigError."""
    try:
        psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout).close()
    except psycopg.OperationalError as exc:
        if exc.sqlstate == "28P01" or "password authentication failed" in str(exc):
            raise ConfigError(
                "the login role exists with a different password than this instance's runtime "
                "password",
                hint="give this instance the runtime_password the other instances use "
                "(PETCARE_RUNTIME_PASSWORD), or set PETCARE_RUNTIME_PASSWORD_RESET=1 to change "
                "it (instances using the old one then lose new connections)",
            ) from None
        raise translate(exc) from exc


def first_admin(url: str, *, names: Names = DEFAULT) -> int | None:
    """Id of the oldest enabled admin, or None."""
    with translated(), _connect(url) as conn:
        row = conn.execute(queries.get("user_first_admin", names)).fetchone()
    return None if row is None else int(row[0])


def create_first_admin(
    url: str, username: str, password_hash: str, *, names: Names = DEFAULT
) -> int:
    """Insert the first admin (only called when no enabled admin exists)."""
    with translated(), _connect(url) as conn:
        row = conn.execute(
            queries.get("user_insert_bootstrap", names),
            {"username": username, "display_name": "Administrator", "password_hash": password_hash},
        ).fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return int(row[0])


def user_by_name(url: str, username: str, *, names: Names = DEFAULT) -> dict[str, Any] | None:
    """One user (id, username, role, disabled) read without an app identity (`--as`)."""
    with translated(), _connect(url) as conn:
        cur = conn.execute(queries.get("user_by_name", names), {"username": username})
        row = cur.fetchone()
        columns = [c.name for c in cur.description or ()]
    return None if row is None else dict(zip(columns, row, strict=True))


def recover_admin(
    url: str, username: str, password_hash: str | None, *, names: Names = DEFAULT
) -> tuple[int, bool]:
    """Break-glass: make `username` an enabled admin (created when missing); (id, created).

    Runs as the store's admin role, so it works when no enabled admin is left to act through
    the runtime role; the unlock row clears any login delay of the account.
    """
    with translated(), _connect(url) as conn, conn.transaction():
        row = conn.execute(
            queries.get("user_recover_admin", names),
            {"username": username, "password_hash": password_hash},
        ).fetchone()
        created = False
        if row is None:
            if password_hash is None:
                raise ValueError("a new admin needs a password hash")
            row = conn.execute(
                queries.get("user_insert_bootstrap", names),
                {"username": username, "display_name": username, "password_hash": password_hash},
            ).fetchone()
            created = True
        conn.execute(queries.get("user_unlock", names), {"username": username})
    assert row is not None  # noqa: S101 - UPDATE or INSERT ... RETURNING returned the row
    return int(row[0]), created


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


def ensure_read_role(
    server_url: str, database_url: str, role: str, password: str, *, database: str, owner: str
) -> None:
    """Create or update a least-privilege LOGIN role that may only connect and read `database`.

    NOINHERIT and no attribute beyond LOGIN; CONNECT, USAGE and SELECT on the tables of
    `public` (today's and, through default privileges, those `owner` creates later), and on
    PostgreSQL 15+ the right to SET temp_file_limit so the engine can cap its temp files.
    """
    ident = sql.Identifier(role)
    with translated(), _connect(server_url) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(
                verb + " ROLE {} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB "
                "NOCREATEROLE NOREPLICATION PASSWORD {}"
            ).format(ident, sql.Literal(password))
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident)
        )
        version = conn.execute("SHOW server_version_num").fetchone()
        if version is not None and int(version[0]) >= 150000:
            try:
                conn.execute(sql.SQL("GRANT SET ON PARAMETER temp_file_limit TO {}").format(ident))
            except psycopg.errors.InsufficientPrivilege:
                pass  # a managed server's admin may lack it; the engine then keeps the default
    with translated(), _connect(database_url) as conn:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(ident))
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT ON TABLES TO {}"
            ).format(sql.Identifier(owner), ident)
        )


def apply_audit_limits(
    url: str, refusals_per_minute: int, sql_prefix_bytes: int, *, names: Names = DEFAULT
) -> None:
    """Write the audit bounds the database enforces (petcare.audit_limits) from the settings."""
    with translated(), _connect(url) as conn:
        conn.execute(
            queries.get("audit_limits_apply", names),
            {"refusals_per_minute": refusals_per_minute, "sql_prefix_bytes": sql_prefix_bytes},
        )
