"""What a connection's login role can do, and whether it may serve the read path (Q3).

Viewers, read-only connections and the assistant run only as a least-privilege login role: not
superuser, no BYPASSRLS / CREATEROLE / CREATEDB / REPLICATION, no membership (direct, inherited or
through SET ROLE) in the predefined roles that signal other backends, touch server files or
programs, or write everything, no write privilege on any table, and no EXECUTE on the server file
functions. Statistics roles (pg_monitor, pg_read_all_stats...) are allowed only when the admin set
`allow_stats` on the connection. The facts come from one catalog query
(`petcare_dba/sql/privileges.sql`) run as the credential itself; a verdict is cached for a few
minutes per credential (in the runtime's cache) so the engine does not pay a round trip on every
run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from petcare_dba.db import target
from petcare_dba.errors import Refused
from petcare_dba.messages import joined, say
from petcare_dba.services.runtime import Runtime

CACHE_TTL_S = 300.0


@dataclass(frozen=True)
class RoleCapabilities:
    """Facts about one login role, as the role itself sees the catalog."""

    login_role: str
    superuser: bool
    bypassrls: bool
    createrole: bool
    createdb: bool
    replication: bool
    dangerous_roles: tuple[str, ...]
    stats_roles: tuple[str, ...]
    writable_tables: int
    writable_sample: tuple[str, ...]
    file_functions: tuple[str, ...]
    server_version_num: int
    checked_at: float = field(default=0.0, compare=False)

    def problems(self, *, allow_stats: bool = False) -> list[str]:
        """Why this role must not serve the read path (empty when it may)."""
        out: list[str] = []
        if self.superuser:
            out.append(say("msg.connections.problem.superuser"))
        for flag, label in (
            (self.bypassrls, "BYPASSRLS"),
            (self.createrole, "CREATEROLE"),
            (self.createdb, "CREATEDB"),
            (self.replication, "REPLICATION"),
        ):
            if flag and not self.superuser:
                out.append(say("msg.connections.problem.attribute", attribute=label))
        if self.dangerous_roles and not self.superuser:
            roles = ", ".join(self.dangerous_roles)
            out.append(say("msg.connections.problem.member", roles=roles))
        if self.stats_roles and not allow_stats and not self.superuser:
            roles = ", ".join(self.stats_roles)
            out.append(say("msg.connections.problem.stats", roles=roles))
        if self.writable_tables:
            sample = ", ".join(self.writable_sample)
            out.append(say("msg.connections.problem.writes", n=self.writable_tables, sample=sample))
        if self.file_functions and not self.superuser:
            functions = ", ".join(self.file_functions)
            out.append(say("msg.connections.problem.files", functions=functions))
        return out

    def summary(self) -> str:
        """One line: what the role can do ("superuser", "signal, writes on 3 tables"...)."""
        parts: list[str] = []
        if self.superuser:
            parts.append("superuser")
        if self.bypassrls:
            parts.append("bypassrls")
        if "pg_signal_backend" in self.dangerous_roles:
            parts.append("signal")
        if self.file_functions or any(
            r.endswith("server_files") or r == "pg_execute_server_program"
            for r in self.dangerous_roles
        ):
            parts.append("file access")
        if self.writable_tables:
            parts.append(f"writes on {self.writable_tables} tables")
        if self.stats_roles:
            parts.append("stats")
        other = [
            label
            for flag, label in (
                (self.createrole, "createrole"),
                (self.createdb, "createdb"),
                (self.replication, "replication"),
            )
            if flag
        ]
        parts.extend(other)
        return ", ".join(parts) if parts else "read only"


def inspect(url: str, app_name: str, connect_timeout: int = 10) -> RoleCapabilities:
    """Run the privilege query as the credential in `url` (a READ ONLY transaction)."""
    row: dict[str, Any] = target.read(
        url, app_name, "role_privileges", connect_timeout=connect_timeout
    )[0]
    return _capabilities(row, time.monotonic())


def _capabilities(row: dict[str, Any], checked_at: float) -> RoleCapabilities:
    return RoleCapabilities(
        login_role=str(row["login_role"]),
        superuser=bool(row["superuser"]),
        bypassrls=bool(row["bypassrls"]),
        createrole=bool(row["createrole"]),
        createdb=bool(row["createdb"]),
        replication=bool(row["replication"]),
        dangerous_roles=tuple(row["dangerous_roles"]),
        stats_roles=tuple(row["stats_roles"]),
        writable_tables=int(row["writable_tables"]),
        writable_sample=tuple(row["writable_sample"]),
        file_functions=tuple(row["file_functions"]),
        server_version_num=int(row["server_version_num"]),
        checked_at=checked_at,
    )


def cached(rt: Runtime, url: str, app_name: str) -> RoleCapabilities:
    """`inspect`, remembered for CACHE_TTL_S per credential in the runtime's cache.

    The key is a keyed digest of the URL (never the URL); `forget` drops every verdict on every
    instance. A verdict read back is re-checked for its age, so an entry cannot outlive the TTL.
    """
    parts = (url,)
    hit = rt.cache.get("roles", None, parts)
    if isinstance(hit, dict) and time.time() - float(hit.get("checked_wall", 0)) < CACHE_TTL_S:
        return _capabilities(hit["row"], float(hit["checked_at"]))
    generation = rt.cache.generation(None)
    row: dict[str, Any] = target.read(
        url, app_name, "role_privileges", connect_timeout=rt.settings.connect_timeout_s
    )[0]
    checked_at = time.monotonic()
    rt.cache.put(
        "roles",
        None,
        parts,
        {"row": row, "checked_at": checked_at, "checked_wall": time.time()},
        generation=generation,
        ttl_s=CACHE_TTL_S,
    )
    return _capabilities(row, checked_at)


def forget(rt: Runtime) -> None:
    """Drop every cached verdict, on every instance (a credential or a flag changed)."""
    rt.cache.invalidate(None, ("roles",))


def read_role_sql(database: str, role: str = "petcare_read", server_version_num: int = 0) -> str:
    """The SQL an admin runs on the target to create a least-privilege login role."""
    db = '"' + database.replace('"', '""') + '"'
    lines = [
        f"CREATE ROLE {role} LOGIN NOINHERIT PASSWORD '<a strong password>';",
        f"GRANT CONNECT ON DATABASE {db} TO {role};",
        f"GRANT USAGE ON SCHEMA public TO {role};  -- and every other schema to read",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role};",
    ]
    if server_version_num == 0 or server_version_num >= 150000:
        lines.append(
            f"GRANT SET ON PARAMETER temp_file_limit TO {role};  -- PostgreSQL 15+, "
            "so the engine can cap temp files"
        )
    return "\n".join(lines)


def refusal(
    connection_name: str, caps: RoleCapabilities, problems: list[str], *, who: str
) -> Refused:
    """The error viewers and the assistant get when only an over-privileged role is stored."""
    sql_text = read_role_sql("<database>", server_version_num=caps.server_version_num)
    return Refused(
        say(
            "msg.connections.over_privileged",
            name=repr(connection_name),
            who=who,
            role=repr(caps.login_role),
            problems=joined(problems),
        ),
        hint=say("msg.connections.over_privileged.hint", name=connection_name, sql=sql_text),
    )
