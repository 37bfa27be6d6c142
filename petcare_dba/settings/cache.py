"""Declared settings: the cache layer and its cross-instance invalidation.

One part of the registry (`settings.registry` joins the parts). The in-process cache is the
default; `redis` shares one cache between instances. Invalidation reaches every instance through
PostgreSQL LISTEN/NOTIFY on the metadata store, or Redis pub/sub when Redis is the backend.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "cache_backend",
        "memory",
        "Where cached catalogs, schema indexes and query results live: `memory` (each process, "
        "bounded LRU) or `redis` (shared by every instance; falls back to memory with a warning "
        "and a degraded health check when Redis cannot be reached).",
        "cache",
        choices=("memory", "redis"),
    ),
    Setting(
        "redis_url",
        "redis://127.0.0.1:6379/0",
        "Redis URL of the `redis` cache backend (may carry a password, so it is a secret).",
        "cache",
        secret=True,
    ),
    Setting(
        "cache_namespace",
        "",
        "Names this deployment's NOTIFY channel, Redis keys, pub/sub channel and slot locks "
        "(letters, digits, _; two deployments sharing a cluster or a Redis need different ones). "
        "Empty: store_prefix (`petcare` by default).",
        "cache",
    ),
    Setting(
        "store_session_url",
        "",
        "Admin URL of the metadata store on a direct (session) connection, for the invalidation "
        "listener and the per-user slot locks shared by every instance. Empty: database_url. "
        "Set it when database_url goes through a transaction pooler (Supabase: port 5432, not "
        "6543): LISTEN and session advisory locks need a session.",
        "cache",
        secret=True,
    ),
    Setting(
        "cache_ttl_s",
        300,
        "Longest any cache entry lives (a feature may keep its own shorter time).",
        "cache",
        int,
        bounds=(1, 86400),
    ),
    Setting(
        "cache_max_bytes",
        64 * 1024 * 1024,
        "Bytes the in-process cache holds at most (least recently used entries go first).",
        "cache",
        int,
        bounds=(1024, 2**40),
    ),
    Setting(
        "cache_max_entry_bytes",
        16 * 1024 * 1024,
        "Largest single cache entry; a bigger value is not cached.",
        "cache",
        int,
        bounds=(256, 2**34),
    ),
    Setting(
        "result_cache_enabled",
        False,
        "Cache results of read-only queries, keyed by connection, credential, role scope, the "
        "role's privileges and the exact statement with its parameters. Off by default.",
        "cache",
        bool,
    ),
    Setting(
        "result_cache_ttl_s",
        60,
        "Seconds a cached query result is served (rows may be this old).",
        "cache",
        int,
        bounds=(1, 86400),
    ),
    Setting(
        "result_cache_max_entry_bytes",
        1024 * 1024,
        "Largest query result kept in the result cache; bigger results are not cached.",
        "cache",
        int,
        bounds=(256, 2**32),
    ),
)
