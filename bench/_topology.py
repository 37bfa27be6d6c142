"""The scale test's system: two app instances, the worker, HAProxy, PostgreSQL 15 and Redis.

`topology(users)` creates a fresh metadata database and a target database on the server of
PETCARE_BENCH_DATABASE_URL (default: the machine's PostgreSQL 15 at 127.0.0.1:5432), migrates
the store, creates the users and the shared connection `scale` (loaded by `pgbench -i`), then
starts `petcare-dba up --no-demo` twice (each serves the app and runs the background jobs, as a
deployment does) and `petcare-dba worker`, every process with the same shared secrets
(PETCARE_SECRET_KEY, PETCARE_RUNTIME_PASSWORD, the store URL, the Redis URL and namespace), and
HAProxy with deploy/haproxy.cfg — only the bind address and the two server addresses rewritten,
so the shipped configuration is what gets tested. Everything is stopped and both databases are
dropped afterwards.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from bench._pg import with_db
from petcare_dba import settings as settings_mod
from petcare_dba.db import migrations
from petcare_dba.db.embedded import port_is_free
from petcare_dba.services import connections, crypto
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

ROOT = Path(__file__).resolve().parents[1]
HAPROXY = "/usr/sbin/haproxy"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "Scale-" + secrets.token_urlsafe(12)
CONNECTION = "scale"


@dataclass
class Instance:
    name: str  # the HAProxy server name, also its affinity cookie value
    port: int
    proc: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        """The `up` process and its app server child."""
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            with suppress(psutil.NoSuchProcess):
                total += psutil.Process(pid).memory_info().rss
        return total / 2**20


@dataclass
class Topology:
    url: str  # the load balancer
    server_url: str
    meta_url: str
    target_url: str
    env: dict[str, str]
    instances: list[Instance] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = Path()
    lease_s: float = 6.0


def _free_port() -> int:
    return next(p for p in random.sample(range(20000, 30000), 200) if port_is_free(p))


def haproxy_config(listen: int, servers: dict[str, int]) -> str:
    """deploy/haproxy.cfg for this host: bind and server addresses changed, nothing else."""
    text = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    text = re.sub(r"^resolvers docker\n(?:[ \t]+.*\n)+", "", text, flags=re.M)
    text = re.sub(r" resolvers docker init-addr [^\n]*", "", text)
    text = re.sub(r"^(\s*)bind :8080", rf"\1bind 127.0.0.1:{listen}", text, flags=re.M)
    for name, port in servers.items():
        text, n = re.subn(
            rf"^(\s*server {name}) {name}:8501", rf"\1 127.0.0.1:{port}", text, flags=re.M
        )
        assert n == 1, f"deploy/haproxy.cfg has no server {name}"
    return text


def _wait_http(url: str, limit_s: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {limit_s:.0f} s; see {log}")


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def _prepare(meta_url: str, target_url: str, env: dict[str, str], n_users: int) -> None:
    migrations.migrate(meta_url, env["PETCARE_RUNTIME_PASSWORD"])
    rt = Runtime.start(settings_mod.load(env={**env, "PETCARE_DATA_DIR": tempfile.mkdtemp()}))
    try:
        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        connections.add(rt, admin, CONNECTION, target_url, shared=True)
        for i in range(n_users):
            users.add_user(rt, admin, user_name(i), "dba", PASSWORD)
    finally:
        rt.close()


def user_name(i: int) -> str:
    return f"u{i:03d}"


def pgbench_init(target_url: str) -> None:
    subprocess.run(
        ["pgbench", "-i", "-s", "1", "-q", target_url],
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def topology(n_users: int, lease_s: float = 6.0, server: str | None = None) -> Iterator[Topology]:
    server = server or os.environ.get("PETCARE_BENCH_DATABASE_URL", DEFAULT_URL)
    tag = uuid.uuid4().hex[:8]
    names = [f"scale_meta_{tag}", f"scale_tgt_{tag}"]
    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    meta_url, target_url = (with_db(server, n) for n in names)
    data = Path(tempfile.mkdtemp(prefix="petcare-scale-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")},
        "PETCARE_DATABASE_URL": meta_url,
        "PETCARE_RUNTIME_PASSWORD": secrets.token_urlsafe(18),
        "PETCARE_SECRET_KEY": crypto.generate_key(),
        "PETCARE_ADMIN_PASSWORD": "Scale-root-" + secrets.token_urlsafe(12),
        "PETCARE_CACHE_BACKEND": "redis",
        "PETCARE_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PETCARE_CACHE_NAMESPACE": "scale_" + tag,
        "PETCARE_JOBS_LEASE_S": str(lease_s),
        "PETCARE_POOL_MAX_SIZE": "8",
        "PETCARE_LOG_LEVEL": "WARNING",
    }
    topo = Topology("", server, meta_url, target_url, env, logs=data, lease_s=lease_s)
    try:
        pgbench_init(target_url)
        _prepare(meta_url, target_url, env, n_users)
        ports = {"app1": _free_port(), "app2": _free_port()}
        for name, port in ports.items():
            inst_env = {**env, "PETCARE_DATA_DIR": str(data / name)}
            argv = [sys.executable, "-m", "petcare_dba.cli", "up", "--no-demo"]
            argv += ["--host", "127.0.0.1", "--port", str(port)]
            log = data / f"{name}.log"
            proc = _spawn(argv, inst_env, log)
            topo.instances.append(Instance(name, port, proc))
            _wait_http(f"http://127.0.0.1:{port}/healthz", 300, proc, log)
            if name == "app1":  # app1 leads the jobs first: killing it must move them
                _wait_leases(meta_url, proc.pid, 30)
        worker_env = {**env, "PETCARE_DATA_DIR": str(data / "worker")}
        topo.procs.append(
            _spawn(
                [sys.executable, "-m", "petcare_dba.cli", "worker"], worker_env, data / "worker.log"
            )
        )
        listen = _free_port()
        cfg = data / "haproxy.cfg"
        cfg.write_text(haproxy_config(listen, ports), encoding="utf-8")
        lb = _spawn([HAPROXY, "-W", "-db", "-f", str(cfg)], env, data / "haproxy.log")
        topo.procs.append(lb)
        topo.url = f"http://127.0.0.1:{listen}"
        _wait_http(topo.url + "/healthz", 30, lb, data / "haproxy.log")
        yield topo
    finally:
        for inst in topo.instances:
            _stop(inst.proc)
        for proc in topo.procs:
            _stop(proc)
        with psycopg.connect(server, autocommit=True) as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        if os.environ.get("PETCARE_SCALE_KEEP_LOGS") != "1":
            shutil.rmtree(data, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def leases(meta_url: str) -> dict[str, str]:
    """job -> holder of the live leases (read as the store's superuser)."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT job, holder FROM petcare.job_leases WHERE expires_at > now()"
        ).fetchall()
    return {str(j): str(h) for j, h in rows}


def _wait_leases(meta_url: str, pid: int, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if any(f":{pid}:" in h for h in leases(meta_url).values()):
            return
        time.sleep(0.3)
    raise RuntimeError("the first instance took no job lease")


def kill(inst: Instance) -> None:
    """SIGKILL the instance and its app server: no drain, no lease release (a crash)."""
    procs = []
    for pid in reversed(inst.pids()):
        with suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
            os.kill(pid, signal.SIGKILL)
    inst.proc.wait()
    psutil.wait_procs(procs, timeout=10)
