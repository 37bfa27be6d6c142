"""Shared fixtures of the monitoring tests: a target database, the collector, local receivers."""

from __future__ import annotations

import json as _json
import queue
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer


@dataclass
class Target:
    """A scratch target database registered as connection `name`."""

    name: str
    dbname: str
    url: str

    def execute(self, *statements: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def value(self, statement: str) -> object:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(statement.encode()).fetchone()
        return None if row is None else row[0]


@pytest.fixture
def target_db(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[Target]:
    """A fresh target database registered (shared) as connection `tgt`."""
    dbname = pg.create_database()
    url = pg.admin_url(dbname)
    connections.add(rt, admin, "tgt", url, shared=True)
    yield Target("tgt", dbname, url)
    from petcare_dba.services.monitoring import jobs

    jobs.stop(rt)
    pg.drop_database(dbname)


def has_pg_stat_statements(url: str) -> bool:
    """Whether pg_stat_statements is preloaded on this server (it is on the embedded PG18)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW shared_preload_libraries").fetchone()
    return bool(row and "pg_stat_statements" in str(row[0]))


class Holder:
    """Keeps a session open in a background thread (a lock holder or a long query)."""

    def __init__(self, url: str, *statements: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.thread: threading.Thread | None = None
        for statement in statements:
            self.conn.execute(statement.encode())

    def run_in_background(self, statement: str) -> None:
        def work() -> None:
            try:
                self.conn.execute(statement.encode())
            except psycopg.Error:
                pass

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()

    def close(self) -> None:
        try:
            self.conn.cancel_safe()
        except psycopg.Error:
            pass
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.conn.close()


class WebhookReceiver:
    """A local HTTP server that records every JSON body POSTed to it (the webhook boundary)."""

    def __init__(self) -> None:
        received: queue.Queue[dict[str, object]] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.put(_json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=s3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, timeout: float, **match: object) -> dict[str, object] | None:
        """The first received body whose fields equal `match`, waiting up to `timeout` s."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                body = self.received.get(timeout=remaining)
            except queue.Empty:
                return None
            if all(body.get(k) == v for k, v in match.items()):
                return body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A tiny SMTP server (HELO/EHLO, MAIL, RCPT, DATA, QUIT) that keeps the messages."""

    def __init__(self) -> None:
        messages: queue.Queue[dict[str, object]] = queue.Queue()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                def say(line: str) -> None:
                    self.wfile.write((line + "\r\n").encode())

                say("220 localhost test SMTP")
                sender, rcpts = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    cmd = raw.decode().strip()
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb in ("HELO", "EHLO"):
                        say("250 localhost")
                    elif verb == "MAIL":
                        sender = cmd.split(":", 1)[1].strip()
                        say("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip())
                        say("250 OK")
                    elif verb == "DATA":
                        say("354 end with .")
                        lines = []
                        while True:
                            line = self.rfile.readline().decode()
                            if line in (".\r\n", ".\n", ""):
                                break
                            lines.append(line)
                        messages.put({"from": sender, "to": rcpts, "data": "".join(lines)})
                        say("250 queued")
                    elif verb == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.messages = messages
        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def monitoring_cli(test_settings, admin: Actor, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the monitoring commands in-process (a typer app with only `register` applied)."""
    import typer
    from typer.testing import CliRunner

    from petcare_dba.cli import monitoring as monitoring_cli_module

    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    monitoring_cli_module.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)
