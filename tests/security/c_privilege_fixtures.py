"""Helpers of the least-privilege tests: least-privilege and hostile login roles on a target.

`read_role` creates a LOGIN role with a SCRAM password that may only connect and SELECT (the SQL
the refusal message recommends) and returns its URL; `role_url` builds the URL of any role with
a password on the same server. Role names are unique per call: roles are cluster-wide and the
machine's PostgreSQL 15 is shared between test runs.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROLE_PASSWORD = "Rr9-least-privilege-44"


def role_url(admin_url: str, role: str, password: str = ROLE_PASSWORD) -> str:
    """`admin_url` with its user and password replaced."""
    parts = urlsplit(admin_url)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def create_role(admin_url: str, role: str, options: str = "LOGIN") -> str:
    """CREATE ROLE with a password; grants CONNECT and SELECT on public; returns its URL."""
    dbname = urlsplit(admin_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} " + options + " PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(ROLE_PASSWORD)
            )
        )
        for stmt in (
            "GRANT CONNECT ON DATABASE {db} TO {r}",
            "GRANT USAGE ON SCHEMA public TO {r}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}",
        ):
            conn.execute(sql.SQL(stmt).format(db=sql.Identifier(dbname), r=sql.Identifier(role)))
    return role_url(admin_url, role)


def read_role(admin_url: str) -> str:
    """A least-privilege login role on the database of `admin_url`; returns its URL."""
    return create_role(admin_url, unique("ro"), "LOGIN NOINHERIT")


def drop_role(admin_url: str, role: str) -> None:
    """Drop a role and what it owns or was granted in the database of `admin_url`."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def drop_login_role(server_admin_url: str, url: str) -> None:
    """Drop the role named in `url` once its database is gone (cluster-wide cleanup)."""
    role = urlsplit(url).username or ""
    with psycopg.connect(server_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
