"""The system `bench ui` drives: what `petcare-dba up` starts, in a temp data dir, on free ports.

`demo_system()` starts the embedded PostgreSQL as the metadata store (`Runtime.start`, as `up`
does), creates the first admin with a known password, the demo database `petcare` and its
connection `demo`, then the background jobs and the simulated clinic workload (settings
`demo_workload` / `demo_workload_rate`) in this process, as `up` runs them beside its app server.
`App.serve()` starts the app server itself (`streamlit_command`, the argv `up` uses) with the same
PETCARE_* settings; given `store_url` it reaches the metadata store through that URL instead (a
delaying proxy). `hello_app()` serves the baseline: a two-page Streamlit app (a title and one
Plotly figure; a title and one grid) on the same Streamlit, with Streamlit's defaults.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

from petcare_dba import settings as settings_mod
from petcare_dba.cli.core import streamlit_command
from petcare_dba.db.embedded import port_is_free
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.connections import demo, workload
from petcare_dba.services.monitoring import jobs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "admin"
PASSWORD = "Bench-ui-" + secrets.token_urlsafe(12)
HELLO = """\
import plotly.graph_objects as go
import streamlit as st


def one() -> None:
    st.title("One")
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3, 4], y=[2, 1, 4, 3])))


def two() -> None:
    st.title("Two")
    st.dataframe({"a": [1, 2, 3], "b": ["x", "y", "z"]})


st.navigation([st.Page(one, title="One"), st.Page(two, title="Two")]).run()
"""


@dataclass
class System:
    rt: Runtime
    admin: Actor
    env: dict[str, str]  # the PETCARE_* settings the app server gets
    root: Path
    demo_url: str  # the demo database as its owner (the connection's URL)


def free_port(low: int = 20000, high: int = 30000) -> int:
    # Random, not first-free: other engineers' runs on this machine race for the same ports.
    return next(p for p in random.sample(range(low, high), 200) if port_is_free(p))


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PETCARE_")}


@contextmanager
def demo_system() -> Iterator[System]:
    """The embedded store, the demo database, the jobs and the workload; all gone afterwards."""
    root = Path(tempfile.mkdtemp(prefix="petcare-bench-ui-", dir="/tmp"))
    root.chmod(0o711)  # run as root, the server's system user must traverse it
    env = {
        "PETCARE_DATA_DIR": str(root / "data"),
        "PETCARE_EMBEDDED_PORT": str(free_port(56500, 57500)),
        "PETCARE_ADMIN_PASSWORD": PASSWORD,
        "PETCARE_HOST": "127.0.0.1",
        "PETCARE_LOG_LEVEL": "WARNING",
    }
    rt = None
    try:
        rt = Runtime.start(settings_mod.load(env=env), create_key=True)
        users.ensure_first_admin(rt)
        admin = users.actor_for(rt, None)
        demo.ensure_demo(rt, admin, rt.settings.demo_scale)
        jobs.start(rt)
        clinic = workload.start_for_demo(rt, admin)
        if clinic is None:
            raise RuntimeError("the demo workload did not start (setting demo_workload)")
        # The connection holds a conninfo (isolated: no PG* or .pgpass); the proxy needs a URL.
        info = conninfo_to_dict(connections.resolve_url(rt, admin, demo.DEMO_CONNECTION))
        url = "postgresql://{}:{}@{}:{}/{}".format(
            *(quote(str(info[k]), safe="") for k in ("user", "password", "host", "port", "dbname"))
        )
        yield System(rt, admin, env, root, url)
    finally:
        if rt is not None:
            rt.close()  # stops the workload, the jobs and the embedded server it started
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_healthy(served: Served, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise RuntimeError(f"the server exited; see {served.log}")
        try:
            with urllib.request.urlopen(served.url + "/_stcore/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    served.stop()
    raise RuntimeError(f"the server did not answer in {limit_s:.0f} s; see {served.log}")


def _spawn(argv: list[str], env: dict[str, str], log: Path, cwd: Path, port: int) -> Served:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    _wait_healthy(served, 180)
    return served


@contextmanager
def app(system: System, *, store_url: str | None = None, name: str = "app") -> Iterator[Served]:
    """The app server as `up` starts it; `store_url` replaces the embedded store's address."""
    port = free_port()
    settings = {**system.env, "PETCARE_PORT": str(port)}
    if store_url is not None:
        settings["PETCARE_DATABASE_URL"] = store_url
    env = {**_clean_environ(), **settings, "FORWARDED_ALLOW_IPS": ""}
    argv = streamlit_command(system.rt.settings)
    served = _spawn(argv, env, system.root / f"{name}.log", ROOT, port)
    try:
        yield served
    finally:
        served.stop()


@contextmanager
def hello_app(root: Path) -> Iterator[Served]:
    """The baseline: two bare Streamlit pages on the same Streamlit, its default options."""
    script = root / "hello.py"
    script.write_text(HELLO, encoding="utf-8")
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", str(script)]
    argv += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    argv += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    served = _spawn(argv, _clean_environ(), root / "hello.log", root, port)
    try:
        yield served
    finally:
        served.stop()
