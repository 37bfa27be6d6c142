"""Connections to target databases (the databases users administer).

Parses and redacts URLs, and opens short-lived connections tagged with an application_name that
names the user (`petcare-dba/<user>/<session>`, reliability Q11) and with TCP keepalives and a
connect timeout, so a dead peer is noticed in under a minute instead of the OS's minutes (F2, F6).
The query engine (issue 3) builds its pools on the same `connect_kwargs`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from petcare_dba.db import queries, session_guards
from petcare_dba.db.errors import redact, translated
from petcare_dba.errors import ValidationError


def parse_url(url: str) -> dict[str, Any]:
    """Validate a libpq URL or key=value conninfo; raise ValidationError (redacted) if bad."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ValidationError(
            f"not a valid PostgreSQL URL: {redact(str(exc))}",
            hint="postgresql://user:password@host:5432/dbname?sslmode=require",
        ) from exc
    if not params.get("host") and not params.get("hostaddr"):
        raise ValidationError(
            "the URL has no host", hint="postgresql://user:password@host:5432/dbname"
        )
    return dict(params)


def display_url(url: str) -> str:
    """The URL without its password, as shown in lists and logs."""
    params = parse_url(url)
    params.pop("password", None)
    user = params.get("user", "")
    host = params.get("host", "")
    port = params.get("port", "5432")
    dbname = params.get("dbname", user)
    extras = "&".join(
        f"{k}={v}" for k, v in sorted(params.items()) if k not in ("user", "host", "port", "dbname")
    )
    return f"postgresql://{user}@{host}:{port}/{dbname}" + (f"?{extras}" if extras else "")


def application_name(username: str, session: str, ai: bool = False) -> str:
    """`petcare-dba/<user>/<session>` (`…/ai/…` for assistant connections), max 63 bytes."""
    name = f"petcare-dba/{username}/{'ai/' if ai else ''}{session}"
    return name.encode("utf-8")[:63].decode("utf-8", "ignore")


def connect_kwargs(app_name: str, connect_timeout: int = 10) -> dict[str, Any]:
    """Keyword arguments every target connection uses."""
    return {
        "application_name": app_name,
        "connect_timeout": connect_timeout,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "prepare_threshold": None,
        # Sent at startup, so it beats a role's or database's client_encoding (Q12: with SJIS,
        # `¥` reaches the server as a backslash).
        "client_encoding": "UTF8",
    }


def connect(
    url: str, app_name: str, connect_timeout: int = 10, **extra: Any
) -> psycopg.Connection[Any]:
    """Open one target connection (caller closes it)."""
    params: Mapping[str, Any] = {**connect_kwargs(app_name, connect_timeout), **extra}
    with translated():
        return psycopg.connect(make_conninfo(url), **params)


def overview(url: str, app_name: str, connect_timeout: int = 10) -> dict[str, Any]:
    """Server version, database size, table count and round-trip time of a target."""
    started = time.perf_counter()
    with connect(url, app_name, connect_timeout, autocommit=True) as conn, translated():
        conn.execute("SET statement_timeout = '10s'")
        row = conn.cursor(row_factory=dict_row).execute(queries.get("target_overview")).fetchone()
    assert row is not None  # noqa: S101 - aggregate query returns one row
    return {**row, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def read(
    url: str,
    app_name: str,
    query_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
) -> list[dict[str, Any]]:
    """Run one named catalog query in a READ ONLY transaction with a statement timeout."""
    return read_text(
        url,
        app_name,
        queries.get(query_name),
        params,
        timeout_ms=timeout_ms,
        connect_timeout=connect_timeout,
    )


def read_text(
    url: str,
    app_name: str,
    text: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout_ms: int = 10000,
    connect_timeout: int = 10,
) -> list[dict[str, Any]]:
    """Run one packaged read-only query text (a lint file) in a READ ONLY transaction."""
    with connect(url, app_name, connect_timeout) as conn, translated(), conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        session_guards.pin(conn)  # the packaged text is read as it was written (Q12)
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))
        cur = conn.cursor(row_factory=dict_row)
        cur.execute(text.encode("utf-8"), params)  # packaged SQL only, never user input
        return cur.fetchall()
