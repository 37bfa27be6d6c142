"""Forward-only numbered migrations of the metadata store.

Files `petcare_dba/sql/migrations/NNNN_snake_case.sql` are applied in order, each in its own
transaction as the NOLOGIN owner role `petcare_owner` (so every object has one owner and RLS is
FORCEd against it too), under a transaction-scoped advisory lock so concurrent starters apply each
migration once, and recorded with a sha256 checksum. A recorded migration whose file changed is an
error, never silently re-applied. A deployment's store prefix (`naming.Names`) applies here to
each migration's text, the ledger, the roles and the lock key; the checksum is of the file as
shipped, so it is the same for every prefix. Everything is transaction-scoped (no session
state, no named prepared statements), so it also works through a transaction pooler such as
Supavisor.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from petcare_dba.db import queries
from petcare_dba.db.errors import translated
from petcare_dba.db.naming import DEFAULT, Names
from petcare_dba.errors import ConfigError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x5E7CA4E  # pg_advisory_xact_lock key shared by every migrator


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied: bool


def available() -> list[Migration]:
    """All migration files, ordered, validating their names and numbering."""
    root = resources.files("petcare_dba") / "sql" / "migrations"
    found = []
    for entry in root.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if not match:
            raise ConfigError(f"migration file {entry.name} is not named NNNN_snake_case.sql")
        found.append(
            Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
        )
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise ConfigError(
                f"migration numbers must be contiguous: expected {expected:04d}, "
                f"found {migration.version:04d}"
            )
    return found


def _ledger(names: Names) -> sql.Composed:
    return sql.SQL("{}.schema_migrations").format(sql.Identifier(names.schema))


def _applied(conn: psycopg.Connection, names: Names) -> dict[int, str]:
    query = sql.SQL("SELECT version, checksum FROM {}").format(_ledger(names))
    rows = conn.execute(query).fetchall()
    return {int(v): str(c) for v, c in rows}


def bootstrap(
    conn: psycopg.Connection,
    runtime_password: str | None,
    *,
    reset_password: bool = False,
    names: Names = DEFAULT,
) -> None:
    """Create roles, schema and the ledger (idempotent); set the login role's password.

    The password is set only when this call creates petcare_login, or when the operator asks
    (`reset_password`): the role is cluster-wide and shared by every instance on the store, so a
    misconfigured instance must not silently change it under the others (issue 13).

    Roles are cluster-wide while advisory locks are per database, so two stores on one server
    bootstrapping at once can collide on the role rows ("tuple concurrently updated"); the
    whole step is idempotent, so it is simply retried.
    """
    for attempt in range(5):
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_catalog.pg_advisory_xact_lock(%s)", (names.lock_key(_LOCK_KEY),)
                )
                existed = conn.execute(
                    "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (names.login,)
                ).fetchone()
                conn.execute(queries.get("bootstrap_roles", names))
                conn.execute(queries.get("create_migrations_table", names))
                if runtime_password and (existed is None or reset_password):
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(names.login), sql.Literal(runtime_password)
                        )
                    )
            return
        except (psycopg.errors.InternalError_, psycopg.errors.UniqueViolation):
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def migrate(
    admin_url: str,
    runtime_password: str | None = None,
    *,
    reset_password: bool = False,
    names: Names = DEFAULT,
) -> list[Migration]:
    """Apply pending migrations; returns those applied by this call (empty: nothing to do).

    An existing login role keeps its password unless `reset_password` (see bootstrap).
    """
    pending = available()
    done: list[Migration] = []
    with translated(), psycopg.connect(admin_url, autocommit=True, prepare_threshold=None) as conn:
        bootstrap(conn, runtime_password, reset_password=reset_password, names=names)
        for migration in pending:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_catalog.pg_advisory_xact_lock(%s)", (names.lock_key(_LOCK_KEY),)
                )
                applied = _applied(conn, names)
                if (
                    migration.version not in applied
                    and applied
                    and migration.version < max(applied)
                ):
                    raise ConfigError(
                        f"migration {migration.version:04d}_{migration.name} is numbered below "
                        "migrations already applied",
                        hint="renumber it after the newest applied migration",
                    )
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise ConfigError(
                            f"migration {migration.version:04d}_{migration.name} was changed "
                            "after it was applied",
                            hint="migrations are forward-only: add a new numbered file instead",
                        )
                    continue
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(names.owner)))
                conn.execute(
                    sql.SQL("SET LOCAL search_path = {}, pg_catalog").format(
                        sql.Identifier(names.schema)
                    )
                )
                conn.execute(names.rewrite(migration.text))
                conn.execute(
                    sql.SQL("INSERT INTO {} (version, name, checksum) VALUES (%s, %s, %s)").format(
                        _ledger(names)
                    ),
                    (migration.version, migration.name, migration.checksum),
                )
                done.append(migration)
    return done


def status(admin_url: str, names: Names = DEFAULT) -> list[MigrationStatus]:
    """Which migrations are applied on the store."""
    with translated(), psycopg.connect(admin_url, autocommit=True, prepare_threshold=None) as conn:
        ledger = _ledger(names).as_string(conn)
        exists = conn.execute("SELECT to_regclass(%s)", (ledger,)).fetchone()
        applied = _applied(conn, names) if exists and exists[0] else {}
    return [MigrationStatus(m.version, m.name, m.version in applied) for m in available()]
