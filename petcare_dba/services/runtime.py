"""The process-wide runtime: where the metadata store is, its pool and the keyring.

`Runtime.start(settings)` resolves the metadata store (the embedded server in data_dir, started if
needed, or `database_url`), applies migrations, loads the secret key and the data keys, and opens
the runtime pool as `petcare_login`. The CLI builds one per command and the Streamlit app one per
process (it holds no user data, so caching it across sessions is safe). `bootstrap()` is what
`petcare-dba up` adds on top: first admin, demo database and its connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from petcare_dba.db import admin, migrations
from petcare_dba.db.embedded import EmbeddedServer, read_or_create_secret
from petcare_dba.db.metastore import Identity, MetaStore
from petcare_dba.db.naming import Names
from petcare_dba.db.shared_slots import SharedSlots
from petcare_dba.db.target import Pools, Slots
from petcare_dba.errors import ConfigError, NotFound, PetcareError
from petcare_dba.services import client_address, crypto, settings_overlay
from petcare_dba.services.cache import Cache, open_cache
from petcare_dba.services.deferred import Deferred
from petcare_dba.settings import Settings

META_DB = "petcare_meta"
LOGIN_ROLE = "petcare_login"


def runtime_url(admin_url: str, password: str, login: str = LOGIN_ROLE) -> str:
    """The admin URL with its user swapped for the login role (petcare_login by default).

    A Supavisor pooler user looks like `postgres.<project-ref>`; the suffix names the tenant, so it
    is kept (`petcare_login.<project-ref>`).
    """
    parts = urlsplit(admin_url)
    user = parts.username or ""
    suffix = user[user.index(".") :] if "." in user else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(login + suffix, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Runtime:
    """Everything a service needs to reach the metadata store and decrypt credentials."""

    settings: Settings
    admin_url: str
    store: MetaStore
    keyring: crypto.Keyring
    server: EmbeddedServer | None = None
    started_server: bool = False
    # What features keep for the runtime's life, one named field each (no string-keyed bag).
    # The slot counter caps target connections per user across every feature (F7) and, through
    # the metadata store, across every instance (issue 18); the engine's pools take from it.
    target_slots: Slots = field(default_factory=Slots)
    target_pools: Pools = field(init=False)
    # The cache layer (issue 18): the explorer's catalogs, the assistant's schema indexes, the
    # read path's role verdicts (Q3) and opt-in query results, in memory or Redis, dropped on
    # every instance by DDL. Features keep the rows they read and build their own types from
    # them, so the runtime imports nothing above it.
    cache: Cache = field(default_factory=Cache.local)
    # connections.credentials: a user's connection lookup (the sealed row) per (user id, name), kept
    # a few seconds and re-checked by the intent (issue 16: one metadata round trip per run).
    connection_lookups: dict[tuple[int, str], tuple[float, dict[str, Any]]] = field(
        default_factory=dict
    )
    # Threads a feature starts for the runtime (the collector) stop when it closes.
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Writes that leave the request path (the engine's audit outcomes), written in order after
    # the response and settled before the metadata pool closes.
    deferred: Deferred = field(default_factory=Deferred)
    # Issue 19: admins' run-time overrides; it swaps `settings` for the effective settings when
    # they change (here at once, on other instances within settings_refresh_s). None for a
    # runtime built by hand.
    overlay: settings_overlay.Overlay | None = None

    def __post_init__(self) -> None:
        self.target_pools = Pools(self.target_slots)

    @property
    def names(self) -> Names:
        """This deployment's schema, roles and lock keys in the metadata store (store_prefix)."""
        return self.store.names

    @classmethod
    def start(cls, settings: Settings, *, create_key: bool = False) -> Runtime:
        """Resolve, migrate and open the metadata store (starting the embedded server if used)."""
        client_address.parse_trusted(settings.trusted_proxies)  # a bad CIDR stops start-up
        names = Names(settings.store_prefix)
        admin_url, server, started = resolve_store(settings)
        try:
            # Issue 13: the secret key is checked against the stored data keys BEFORE anything
            # changes (migrations, the login role's password), so an instance started with the
            # wrong key refuses without disturbing the instances that share the store.
            rows = admin.key_versions(admin_url, names=names)
            keyring = crypto.Keyring(
                load_kek(settings, create=create_key and not rows, in_use=bool(rows))
            )
            if rows:
                keyring.load(
                    [
                        crypto.WrappedKey(r["version"], bytes(r["wrapped_dek"]), r["kek_id"])
                        for r in rows
                    ]
                )
            password = runtime_password(settings)
            migrations.migrate(
                admin_url, password, reset_password=settings.runtime_password_reset, names=names
            )
            # LISTEN and the slot locks need a session, not a transaction pooler.
            session_url = runtime_url(
                settings.store_session_url or admin_url, password, names.login
            )
            store = MetaStore(
                runtime_url(admin_url, password, names.login),
                names=names,
                min_size=settings.pool_min_size,
                max_size=settings.pool_max_size,
                timeout=settings.pool_timeout_s,
                connect_timeout=settings.connect_timeout_s,
            )
            # One probe connection first: a wrong password is a clear error at once rather than
            # a pool that retries until its timeout.
            admin.check_login(
                runtime_url(admin_url, password, names.login), settings.connect_timeout_s
            )
            store.open()
            try:
                if not rows:
                    wrapped = keyring.new_version()
                    admin.insert_key(
                        admin_url,
                        wrapped.version,
                        wrapped.wrapped_dek,
                        wrapped.kek_id,
                        names=names,
                    )
                admin.apply_audit_limits(admin_url, *audit_limits(settings), names=names)
                overlay = settings_overlay.Overlay(store, keyring, settings)
                overlay.refresh()
            except BaseException:
                store.close()
                raise
            try:
                # Last: its listener thread must not outlive a start that failed above.
                cache = open_cache(settings, store, session_url, keyring.kek)
            except BaseException:
                store.close()
                raise
        except BaseException:
            if server is not None and started:
                server.stop()
            raise
        runtime = cls(overlay.effective(), admin_url, store, keyring, server, started, cache=cache)
        runtime.overlay = overlay
        overlay.on_change = runtime.apply_settings
        cache.signals["settings"] = overlay.wake
        overlay.start()
        runtime.closers.append(overlay.stop)
        # Issue 18: the per-user cap counts every instance on this store, not just this one.
        runtime.target_slots.shared = SharedSlots(
            session_url,
            cache_namespace(settings),
            connect_timeout=settings.connect_timeout_s,
            linger_s=settings.slot_linger_s,
        )
        # Opened now, with the metadata pool, from the environment the app started with: PG*
        # variables set later (by a library, a thread) must not shape the store's session.
        runtime.target_slots.shared.warm()
        return runtime

    def apply_settings(self, effective: Settings) -> None:
        """Use new effective settings (the overlay read changed overrides): one reference swap,
        so each read of `rt.settings` sees one whole version, never half of a change."""
        self.settings = effective

    def close(self) -> None:
        """Close the pools; stop the embedded server if this runtime started it."""
        for closer in list(self.closers):
            with contextlib.suppress(Exception):
                closer()
        self.deferred.close()
        with contextlib.suppress(Exception):
            self.target_pools.close()
        with contextlib.suppress(Exception):
            self.cache.close()
        if isinstance(self.target_slots.shared, SharedSlots):
            self.target_slots.shared.close()
        with contextlib.suppress(PetcareError):
            self.store.close()
        if self.server is not None and self.started_server:
            self.server.stop()

    def has_admin(self) -> bool:
        """True when the store has an enabled admin."""
        return admin.first_admin(self.admin_url, names=self.names) is not None

    def first_admin(self) -> Identity:
        """The identity the CLI acts as when no --as is given."""
        user_id = admin.first_admin(self.admin_url, names=self.names)
        if user_id is None:
            raise NotFound(
                "there is no enabled admin",
                hint="run `petcare-dba up` once on a new store, or "
                "`petcare-dba user recover-admin NAME` to restore one",
            )
        return Identity(user_id, "cli")


def cache_namespace(settings: Settings) -> str:
    """The cache's namespace (NOTIFY channel, Redis keys, slot locks): the store prefix unless set.

    Two deployments in one database must not drop each other's caches or share slot locks, so
    an unset cache_namespace follows store_prefix (the default of both is `petcare`).
    """
    return settings.cache_namespace or settings.store_prefix


def audit_limits(settings: Settings) -> tuple[int, int]:
    """Refusals per minute and stored SQL prefix bytes, clamped to what the database accepts."""
    refusals = max(0, settings.audit_refusals_per_minute)
    return refusals, max(0, min(settings.audit_sql_prefix_bytes, 65536))


def resolve_store(settings: Settings) -> tuple[str, EmbeddedServer | None, bool]:
    """The metadata store's admin URL; starts the embedded server when it is the store.

    Returns (admin_url, server or None, whether this call started the server).
    """
    if settings.database_url:
        return settings.database_url, None, False
    server = EmbeddedServer(settings.data_path, settings.embedded_port)
    started = server.start()
    try:
        admin.ensure_database(server.url(), META_DB)
    except BaseException:
        if started:
            server.stop()
        raise
    return server.url(META_DB), server, started


def runtime_password(settings: Settings) -> str:
    """The petcare_login password: a setting, or generated once into data_dir/secrets."""
    return settings.runtime_password or read_or_create_secret(
        settings.data_path / "secrets" / "runtime.password"
    )


def key_file(settings: Settings) -> Path:
    return (
        Path(settings.secret_key_file)
        if settings.secret_key_file
        else (settings.data_path / "secrets" / "secret.key")
    )


def load_kek(settings: Settings, *, create: bool, in_use: bool = False) -> bytes:
    """The KEK from PETCARE_SECRET_KEY or the key file (created only by `up` on first start)."""
    if settings.secret_key:
        return crypto.parse_key(settings.secret_key, "PETCARE_SECRET_KEY")
    path = key_file(settings)
    if not path.exists() and not create:
        if in_use:
            raise ConfigError(
                f"no secret key: the metadata store holds credentials sealed with a key, but "
                f"PETCARE_SECRET_KEY is unset and {path} does not exist",
                hint="restore the key file from your backup or set PETCARE_SECRET_KEY; a new "
                "key cannot decrypt the stored credentials",
            )
        raise ConfigError(
            f"no secret key: PETCARE_SECRET_KEY is unset and {path} does not exist",
            hint="run `petcare-dba up` once to generate it, or set PETCARE_SECRET_KEY",
        )
    return crypto.load_key_file(path, create=create)


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded PostgreSQL of this data_dir; False when it was not running."""
    server = EmbeddedServer(settings.data_path, settings.embedded_port)
    if not server.running():
        return False
    server.stop()
    return True


def migrate_store(
    settings: Settings, *, status_only: bool = False, reset_password: bool = False
) -> tuple[list[migrations.MigrationStatus], list[migrations.Migration]]:
    """The migration status, or the migrations applied now (the CLI's `migrate`).

    Starts the embedded server for the call when it is the store and was not running.
    """
    names = Names(settings.store_prefix)
    admin_url, server, started = resolve_store(settings)
    try:
        if status_only:
            return migrations.status(admin_url, names), []
        applied = migrations.migrate(
            admin_url,
            runtime_password(settings),
            reset_password=reset_password or bool(settings.runtime_password_reset),
            names=names,
        )
        return [], applied
    finally:
        if server is not None and started:
            server.stop()
