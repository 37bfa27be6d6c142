"""The opt-in cache of read-only query results (`result_cache_enabled`, off by default).

A result is served again only to the same principal: the key holds the stored connection, the
credential path and the credential itself (which login role, with which password), the app
role's scope (viewer, analyst..., the assistant, read-only or not), the row and byte caps, a
fingerprint of everything that decides what that login role may read (its memberships and
attributes, every grant and row-security policy, read on the leased connection at lookup time, so
a REVOKE made even outside the app turns every cached result of the role into a miss) and the
exact statement text with its typed parameters. Text is not normalised: two statements that
differ only in whitespace or comments are two entries, never one. Only statements that are
read-only, call no volatile function and ran untruncated within `result_cache_max_entry_bytes`
are kept, for `result_cache_ttl_s`. DDL on the connection drops its results on every instance.

Where the engine calls it (services/sql/cached.py, from engine.run after the final decision on
the lease, for a one-statement read-only plan): `scope(...)`, `generation(...)` and `get(...)`;
on a miss, run, then `put(...)` with the generation taken before running. It is handed the
runtime's `Cache` and the settings, never the runtime (which holds the cache: no import circle).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from petcare_dba.db.target import executor
from petcare_dba.services.cache import codec
from petcare_dba.services.cache.layer import Cache, Generation
from petcare_dba.settings import Settings

if TYPE_CHECKING:  # only its type: the sql package calls this module, not the other way
    from petcare_dba.services.sql.parse import Classification

KIND = "results"
# Built-in functions whose value changes on every call; a statement naming one is not cached.
_VOLATILE = re.compile(
    r"\b(random|clock_timestamp|timeofday|statement_timestamp|gen_random_uuid|uuidv4|uuidv7|"
    r"txid_current|pg_current_xact_id|pg_sleep\w*|setseed|nextval|currval|lastval|"
    r"pg_backend_pid|pg_stat_\w+|pg_current_wal_\w+|inet_client_\w+)\s*\(",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Scope:
    """Who reads and how: every part of the key except the statement."""

    connection_id: int
    credential_path: str
    role: str
    read_only: bool
    max_rows: int
    max_bytes: int
    fingerprint: str
    credential_url: str = field(repr=False)

    def parts(self) -> tuple[str | int | None, ...]:
        return (
            self.connection_id,
            self.credential_path,
            self.credential_url,
            self.role,
            int(self.read_only),
            self.max_rows,
            self.max_bytes,
            self.fingerprint,
        )


@dataclass(frozen=True)
class CachedResult:
    """One statement's result as cached (the engine's QueryResult without timings)."""

    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_count: int | None
    command_tag: str
    cached_at: float = 0.0
    column_oids: tuple[int, ...] = ()  # the value formatter formats by them (exact values)


def enabled(settings: Settings) -> bool:
    return bool(settings.result_cache_enabled)


def cacheable(classification: Classification) -> bool:
    """A plain read: read-only, resolved, no volatile built-in, no locking clause."""
    c = classification
    return (
        c.read_only
        and c.command == "SELECT"
        and not (c.unchecked or c.escalates or c.depends_on or c.parse_error)
        and not _VOLATILE.search(c.text)
    )


def scope(
    conn: Any,
    *,
    connection_id: int,
    credential_url: str,
    credential_path: str,
    role: str,
    read_only: bool,
    max_rows: int,
    max_bytes: int,
) -> Scope:
    """The scope of a run on a leased connection (reads the privilege fingerprint on it)."""
    return Scope(
        connection_id,
        credential_path,
        role,
        read_only,
        max_rows,
        max_bytes,
        executor.privilege_fingerprint(conn),
        credential_url,
    )


def _parts(scope: Scope, statement: str, params: Any) -> tuple[str | int | None, ...]:
    return (*scope.parts(), statement, codec.canonical(params))


def generation(cache: Cache, scope: Scope) -> Generation:
    """Take before running the statement; hand it to `put`."""
    return cache.generation(scope.connection_id)


def get(cache: Cache, scope: Scope, statement: str, params: Any = None) -> CachedResult | None:
    """The cached result of exactly this statement for exactly this scope, or None (the caller
    asks only when `enabled`)."""
    value = cache.get(KIND, scope.connection_id, _parts(scope, statement, params))
    if not isinstance(value, dict):
        return None
    return CachedResult(
        tuple(value["columns"]),
        tuple(value["column_types"]),
        tuple(tuple(r) for r in value["rows"]),
        value["row_count"],
        value["command_tag"],
        float(value["cached_at"]),
        tuple(value.get("column_oids", ())),
    )


def put(
    cache: Cache,
    settings: Settings,
    scope: Scope,
    statement: str,
    params: Any,
    result: CachedResult,
    *,
    generation: Generation,
    truncated: bool = False,
) -> bool:
    """Keep a result; False when disabled, truncated, too big, or invalidated meanwhile."""
    if not enabled(settings) or truncated:
        return False
    value = {
        "columns": list(result.columns),
        "column_types": list(result.column_types),
        "rows": [list(r) for r in result.rows],
        "row_count": result.row_count,
        "command_tag": result.command_tag,
        "cached_at": time.time(),
        "column_oids": list(result.column_oids),
    }
    return cache.put(
        KIND,
        scope.connection_id,
        _parts(scope, statement, params),
        value,
        generation=generation,
        ttl_s=float(settings.result_cache_ttl_s),
        max_bytes=int(settings.result_cache_max_entry_bytes),
    )
