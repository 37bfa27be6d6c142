"""What the scale benchmark checks besides page timings: memory, audit, jobs, backends, load.

`Sampler` records each instance's RSS every second; `audit` counts intents left without an
outcome and ends them through the reconcile; `failover` times how long the dead instance's job
leases take to get a live leader; `wait_in_flight` waits until the victim's users have a statement
audited as started; `orphans` counts target backends no live process holds; `xacts` reads the
target's commit counter (pgbench's load). Every read is as the server's superuser.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil
import psycopg

from bench import _topology as topo_mod
from petcare_dba import settings as settings_mod
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit as audit_log
from petcare_dba.services.security import users


class Sampler(threading.Thread):
    """RSS (MiB) of each instance every second."""

    def __init__(self, instances: list[topo_mod.Instance]) -> None:
        super().__init__(daemon=True)
        self.instances = instances
        self.samples: dict[str, list[float]] = {i.name: [] for i in instances}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            for inst in self.instances:
                if inst.proc.poll() is None:
                    self.samples[inst.name].append(round(inst.rss_mb(), 1))

    def report(self) -> dict[str, Any]:
        out = {}
        for name, s in self.samples.items():
            if s:
                warm = s[min(len(s) - 1, len(s) // 4)]
                out[name] = {
                    "start_mb": s[0],
                    "after_warmup_mb": warm,
                    "end_mb": s[-1],
                    "max_mb": max(s),
                    "samples": len(s),
                }
        return out


def audit(topo: topo_mod.Topology) -> dict[str, int]:
    """Intents without an outcome, before and after the reconcile (`audit reconcile`)."""
    query = (
        "SELECT count(*) FROM petcare.audit_log i WHERE i.outcome = 'intent' AND NOT EXISTS "
        "(SELECT 1 FROM petcare.audit_log o WHERE o.event_id = i.event_id "
        "AND o.outcome <> 'intent')"
    )
    with psycopg.connect(topo.meta_url, autocommit=True) as conn:
        before = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
        intents = int(
            conn.execute(
                "SELECT count(*) FROM petcare.audit_log WHERE outcome = 'intent'"
            ).fetchone()[0]  # type: ignore[index]
        )
    env = {**topo.env, "PETCARE_DATA_DIR": str(topo.logs / "audit")}
    rt = Runtime.start(settings_mod.load(env=env))
    try:
        unknown = audit_log.reconcile(rt.store, users.actor_for(rt, None), 0)
    finally:
        rt.close()
    with psycopg.connect(topo.meta_url, autocommit=True) as conn:
        after = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    return {
        "intents": intents,
        "open_after_kill": before,
        "marked_unknown": unknown,
        "open_after_reconcile": after,
    }


def failover(topo: topo_mod.Topology, pid: int, killed_at: float, limit_s: float) -> dict:
    held = {j for j, h in topo_mod.leases(topo.meta_url).items() if f":{pid}:" in h}
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        now = topo_mod.leases(topo.meta_url)
        if held and all(j in now and f":{pid}:" not in now[j] for j in held):
            return {
                "jobs_moved": sorted(held),
                "failover_s": round(time.monotonic() - killed_at, 2),
                "new_leaders": sorted({now[j].split(":")[1] for j in held}),
            }
        time.sleep(0.2)
    return {"jobs_moved": sorted(held), "failover_s": None}


def wait_in_flight(meta_url: str, names: list[str], limit_s: float = 60) -> int:
    """Wait until the victim's users' in-flight statements are audited as started, not ended."""
    deadline = time.monotonic() + limit_s
    seen = 0
    while time.monotonic() < deadline:
        with psycopg.connect(meta_url, autocommit=True) as conn:
            seen = int(
                conn.execute(
                    # Everything before the barrier has ended: the open intents are these.
                    "SELECT count(*) FROM petcare.audit_log i WHERE i.outcome = 'intent' "
                    "AND NOT EXISTS (SELECT 1 FROM petcare.audit_log o "
                    "WHERE o.event_id = i.event_id AND o.outcome <> 'intent') "
                    "AND i.username = ANY(%s)",
                    (names,),
                ).fetchone()[0]  # type: ignore[index]
            )
        if seen >= len(names):
            break
        time.sleep(0.05)
    return seen


def orphans(url: str, limit_s: float = 20) -> int:
    """Target backends of the app whose client socket no live process holds (after a settle).

    A killed instance's backends end when their statement tries to answer the dead socket; a
    backend still there after `limit_s` is an orphan.
    """
    deadline = time.monotonic() + limit_s
    while True:
        ports = {c.laddr.port for c in psutil.net_connections("tcp") if c.laddr}
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND application_name LIKE 'petcare%%'"
            ).fetchall()
        orphans = sum(1 for (port,) in rows if port is not None and port not in ports)
        if orphans == 0 or time.monotonic() > deadline:
            return orphans
        time.sleep(0.5)


def xacts(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return int(
            conn.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()[0]  # type: ignore[index]
        )
