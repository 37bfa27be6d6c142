"""The app behind a real nginx under a path prefix (`server.baseUrlPath = "petcare"`).

The operator's prefix comes from a `.streamlit/config.toml` in the app's working directory (the
launcher `up` uses honours it); Debian's nginx runs as this test's child on a random port with
a throw-away configuration and proxies `/petcare/` with websocket upgrades. Chromium signs in
through nginx, the session cookie is handed off through the prefixed `/petcare/auth/*` routes,
a page loads over the proxied websocket, and a reload keeps the session. `/metrics` through
the proxy is refused (the proxy adds X-Forwarded-For and no metrics_token is set).
"""

from __future__ import annotations

import os
import random
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from petcare_dba import settings as settings_mod
from petcare_dba.cli.core import streamlit_command
from petcare_dba.db.embedded import port_is_free
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_browser import ARTIFACTS, screenshot
from tests.fix_db import ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NGINX = "/usr/sbin/nginx"
WAIT = 30000
PREFIX = "petcare"

NGINX_CONF = """
{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {tmp}/access.log;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    location /{prefix}/ {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"""


def free_port(low: int, high: int) -> int:
    return next(p for p in random.sample(range(low, high), 100) if port_is_free(p))


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while status_of(url) != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not come up; see {log}")
        time.sleep(0.3)


@pytest.fixture
def proxied_app(
    test_settings: settings_mod.Settings, rt: Runtime, admin: Actor, tmp_path: Path
) -> Iterator[str]:
    """The app (prefix from the operator's config file) behind nginx; yields nginx's URL."""
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is not installed (apt-get install nginx)", pytrace=False)
    workdir = tmp_path / "app"
    (workdir / ".streamlit").mkdir(parents=True)
    (workdir / ".streamlit" / "config.toml").write_text(f'[server]\nbaseUrlPath = "{PREFIX}"\n')
    app_port = free_port(10200, 10600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    for name, source in test_settings.sources.items():
        if source in ("env", "cli"):
            env["PETCARE_" + name.upper()] = str(test_settings.values[name])
    env["PETCARE_PORT"] = str(app_port)
    ARTIFACTS.mkdir(exist_ok=True)
    app_log = ARTIFACTS / f"streamlit-proxy-{app_port}.log"
    with app_log.open("wb") as out:
        app = subprocess.Popen(
            streamlit_command(test_settings), cwd=workdir, env=env, stdout=out, stderr=out
        )
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    port = free_port(10600, 11000)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = nginx_dir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(user=user, tmp=nginx_dir, port=port, prefix=PREFIX, app_port=app_port)
    )
    nginx = subprocess.Popen([NGINX, "-p", str(nginx_dir), "-c", str(conf)])
    try:
        wait_until(f"http://127.0.0.1:{app_port}/{PREFIX}/_stcore/health", app, app_log)
        wait_until(f"http://127.0.0.1:{port}/{PREFIX}/healthz", nginx, nginx_dir / "error.log")
        yield f"http://127.0.0.1:{port}/{PREFIX}"
    finally:
        nginx.terminate()
        app.terminate()
        nginx.wait(timeout=15)
        app.wait(timeout=15)


def test_sign_in_and_load_a_page_through_nginx_under_a_prefix(
    proxied_app: str, browser: Any
) -> None:
    assert status_of(proxied_app + "/healthz") == 200
    assert status_of(proxied_app + "/metrics") == 403  # the proxy's X-Forwarded-For
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(proxied_app + "/")
    page.get_by_label("Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=WAIT)
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url(f"**/{PREFIX}/settings", timeout=WAIT)
    page.get_by_role("heading", name="Settings").first.wait_for(timeout=WAIT)
    screenshot(page, "proxy-prefix-settings")
    # The session cookie came through the prefixed handoff route, so a reload stays signed in.
    page.wait_for_timeout(500)
    assert [c["name"] for c in context.cookies() if c["name"] == "petcare_session"]
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for(timeout=WAIT)
    context.close()
