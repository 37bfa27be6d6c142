"""A real transaction pooler (Debian's pgbouncer in pool_mode=transaction) in front of the test
server, to prove the metadata store keeps no session state and uses no named prepared statements
(Supabase's Supavisor on port 6543 behaves the same way)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from petcare_dba.db.embedded import port_is_free
from tests.fix_db import RUNTIME_PASSWORD, PgServer

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _missing(reason: str) -> None:
    if os.environ.get("PETCARE_REQUIRE_DB") == "1":
        pytest.fail(f"the pooler test is required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pooler(pg: PgServer) -> Iterator[str]:
    """Admin URL template through pgbouncer (transaction mode); use with `with_db`."""
    if not Path(PGBOUNCER).exists():
        _missing("pgbouncer is not installed (apt-get install pgbouncer)")
    parts = urlsplit(pg.url)
    admin_password = parts.password or "trust"
    workdir = Path(tempfile.mkdtemp(prefix="petcare-pgbouncer-"))
    workdir.chmod(0o755)
    port = next(p for p in range(56500, 56600) if port_is_free(p))
    (workdir / "userlist.txt").write_text(
        f'"{parts.username}" "{admin_password}"\n"petcare_login" "{RUNTIME_PASSWORD}"\n'
    )
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={parts.hostname} port={parts.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = scram-sha-256\nauth_file = " + str(workdir / "userlist.txt") + "\n"
        "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 10\n"
        "ignore_startup_parameters = extra_float_digits\n"
        f"logfile = {workdir / 'pgbouncer.log'}\npidfile = {workdir / 'pgbouncer.pid'}\n"
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        (workdir / name).chmod(0o644)
    argv = [PGBOUNCER, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        argv[1:1] = ["-u", "nobody"]
        (workdir / "pgbouncer.log").touch()
        shutil.chown(workdir, "nobody")
        shutil.chown(workdir / "pgbouncer.log", "nobody")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = (
        f"postgresql://{parts.username}:{quote(admin_password, safe='')}@127.0.0.1:{port}/postgres"
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            break
        except psycopg.Error:
            if time.monotonic() > deadline or proc.poll() is not None:
                log = (workdir / "pgbouncer.log").read_text(errors="replace")[-2000:]
                proc.kill()
                pytest.fail(f"pgbouncer did not start: {log}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
