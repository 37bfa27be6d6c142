"""Real signals to `petcare-dba up`: the whole process tree stops, exit 0, within the bound.

SIGTERM (what systemd, Docker and Kubernetes send) and SIGINT (a terminal's Ctrl+C) to `up`: the
Streamlit child stops (/healthz no longer answers), the embedded PostgreSQL it started stops (no
postgres process of that data directory is left), a statement running in the editor ends
audited 'cancelled'; and with a stored connection and no browser at all, samples are taken.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.db.embedded import EmbeddedServer, port_is_free
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.cli.test_worker import BOUND, Command, worker_env
from tests.fix_browser import screenshot
from tests.fix_engine import Target, target
from tests.fix_monitoring import target_db

__all__ = ["target", "target_db"]  # fixtures used by name

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "petcare_dba.cli"]


def free_port(start: int) -> int:
    return next(p for p in random.sample(range(start, start + 500), 50) if port_is_free(p))


def healthz(port: int) -> int | None:
    """/healthz's status code, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def postgres_of(pgdata: Path) -> set[int]:
    """Processes whose command line names this data directory (the postmaster)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if str(pgdata).encode() in cmdline:
                found.add(int(entry.name))
    return found


class Up(Command):
    """`petcare-dba up` as a user runs it."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        super().__init__(["up", *args], env, log)

    def wait_serving(self, port: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if healthz(port) == 200:
                return
            assert self.proc.poll() is None, self.output()
            time.sleep(0.3)
        pytest.fail(f"up did not serve: {self.output()}")


@pytest.fixture
def data_parent() -> Iterator[Path]:
    """Under /tmp, 0711: as root the embedded server's system user must traverse it."""
    path = Path(tempfile.mkdtemp(prefix="petcare-sig-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sigterm_stops_up_its_app_and_the_embedded_postgres(data_parent: Path) -> None:
    data_dir = data_parent / "data"
    pg_port, web_port = free_port(58500), free_port(9700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}
    env.update(
        PETCARE_DATA_DIR=str(data_dir),
        PETCARE_EMBEDDED_PORT=str(pg_port),
        PETCARE_PORT=str(web_port),
        PETCARE_SHUTDOWN_TIMEOUT_S=str(BOUND),
    )
    up = Up(env, data_parent / "up.log", "--no-demo")
    try:
        up.wait_serving(web_port)
        tree = descendants(up.proc.pid)
        postmaster = postgres_of(data_dir / "pgdata")
        assert tree and postmaster, "expected a Streamlit child and a running postmaster"
        code, took = up.stop(signal.SIGTERM)
    finally:
        up.close()
    assert code == 0, up.output()
    assert took < BOUND, took
    assert healthz(web_port) is None  # nothing answers any more
    assert not alive(tree), f"left behind: {alive(tree)}"
    assert not alive(postgres_of(data_dir / "pgdata"))
    assert not EmbeddedServer(data_dir, pg_port).running()
    assert "embedded PostgreSQL stopped" in up.output()


def _samples_of(meta_url: str, connection_id: int) -> int:
    with psycopg.connect(meta_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM petcare.metric_samples WHERE connection_id = %s",
            (connection_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_up_samples_a_stored_connection_without_any_browser_and_sigint_stops_it(
    test_settings: settings_mod.Settings,
    rt: Runtime,
    admin: Actor,
    target_db: Any,
    meta_url: str,
    tmp_path: Path,
) -> None:
    conn_id = connections.get(rt, admin, target_db.name).id
    assert _samples_of(meta_url, conn_id) == 0
    web_port = free_port(9200)
    env = worker_env(test_settings, PETCARE_PORT=str(web_port), PETCARE_DEMO_ENABLED="false")
    up = Up(env, tmp_path / "up.log")
    try:
        up.wait_serving(web_port)
        tree = descendants(up.proc.pid)
        deadline = time.monotonic() + 20
        while _samples_of(meta_url, conn_id) == 0:  # no one signed in, no page open
            assert time.monotonic() < deadline, up.output()
            time.sleep(0.3)
        code, took = up.stop(signal.SIGINT)
    finally:
        up.close()
    assert code == 0 and took < BOUND, up.output()
    assert healthz(web_port) is None
    assert not alive(tree)


def _sleeping(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND application_name LIKE 'petcare-dba/admin/%%' AND datname = current_database()"
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.browser
def test_sigterm_to_up_cancels_a_running_statement_audited_cancelled(
    test_settings: settings_mod.Settings,
    admin: Actor,
    target: Target,
    browser: Any,
    meta_url: str,
    tmp_path: Path,
) -> None:
    from tests.e2e.test_journey_editor import sign_in_to_editor, type_sql

    web_port = free_port(9300)
    env = worker_env(test_settings, PETCARE_PORT=str(web_port), PETCARE_DEMO_ENABLED="false")
    up = Up(env, tmp_path / "up.log")
    try:
        up.wait_serving(web_port)
        page = sign_in_to_editor(browser, f"http://127.0.0.1:{web_port}")
        type_sql(page, "SELECT pg_sleep(120)")
        deadline = time.monotonic() + 30
        while not _sleeping(target.url):
            if time.monotonic() > deadline:
                screenshot(page, "signals-statement-not-started")
                pytest.fail("the statement did not start: " + up.output()[-3000:])
            time.sleep(0.2)
        code, took = up.stop(signal.SIGTERM)
        page.context.close()
    finally:
        up.close()
    assert code == 0, up.output()
    assert took < BOUND, took
    assert not _sleeping(target.url)  # cancelled on the server, not left running
    with psycopg.connect(meta_url, autocommit=True) as conn:
        outcomes = conn.execute(
            "SELECT outcome FROM petcare.audit_log WHERE action = 'sql.execute' "
            "AND event_id IN (SELECT event_id FROM petcare.audit_log "
            "WHERE outcome = 'intent' AND action = 'sql.execute') ORDER BY chain_seq"
        ).fetchall()
        run = conn.execute(
            "SELECT outcome FROM petcare.execucoes_scripts ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert [o for (o,) in outcomes] == ["intent", "cancelled"], outcomes
    assert run == ("cancelled",)


def test_sigterm_during_start_up_unwinds_it_and_stops_the_embedded_postgres(
    data_parent: Path,
) -> None:
    data_dir = data_parent / "data"
    pg_port = free_port(59000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}
    env.update(PETCARE_DATA_DIR=str(data_dir), PETCARE_EMBEDDED_PORT=str(pg_port))
    up = Up(env, data_parent / "up.log", "--no-serve")  # builds the demo: seconds of work
    try:
        deadline = time.monotonic() + 90
        while "metadata store:" not in up.output():
            assert time.monotonic() < deadline and up.proc.poll() is None, up.output()
            time.sleep(0.05)
        code, _ = up.stop(signal.SIGTERM)
    finally:
        up.close()
    assert code == 0, up.output()
    assert "stopped during start-up" in up.output()
    assert "demo database 'petcare' ready" not in up.output()
    assert not alive(postgres_of(data_dir / "pgdata"))
