"""Fixtures of the MCP tests: two target connections, tokens, and the SDK's own client.

`targets` gives connection `tgt` (table t, AI consent `data`) and `other` (consent `data`),
both shared; `client_calls` runs a list of calls through one SDK `ClientSession` over stdio
(spawning `petcare-dba mcp`) or Streamable HTTP (a running app server).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from petcare_dba import settings as settings_mod
from petcare_dba.services import assistant, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer, process_env
from tests.fix_engine import SEED
from tests.security.c_privilege_fixtures import drop_login_role, read_role

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Targets:
    """Two target databases registered as shared connections `tgt` and `other`."""

    tgt_url: str
    other_url: str


@pytest.fixture
def targets(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[Targets]:
    made: list[tuple[str, str]] = []
    for name in ("tgt", "other"):
        dbname = pg.create_database()
        url = pg.admin_url(dbname)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
            conn.cursor().executemany("INSERT INTO t VALUES (%s, %s)", SEED)
        read_url = read_role(url)
        connections.add(rt, admin, name, url, shared=True, read_url=read_url)
        assistant.set_consent(rt, admin, name, "data")
        made.append((dbname, read_url))
    yield Targets(pg.admin_url(made[0][0]), pg.admin_url(made[1][0]))
    engine.close(rt)
    for dbname, read_url in made:
        pg.drop_database(dbname)
        drop_login_role(pg.admin_url(), read_url)


def rows_of(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, note FROM t ORDER BY id").fetchall()


@dataclass(frozen=True)
class Reply:
    """One tool call's answer as the client saw it."""

    error: bool
    text: str

    @property
    def data(self) -> Any:
        return json.loads(self.text)


async def _session_calls(session: ClientSession, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    await session.initialize()
    tools = await session.list_tools()
    replies: list[Reply | str] = []
    for tool, args in calls:
        if tool == "@resource":
            try:
                found = await session.read_resource(args["uri"])
                replies.append(Reply(False, found.contents[0].text))  # type: ignore[union-attr]
            except Exception as exc:  # the SDK raises the server's resource error
                replies.append(Reply(True, str(exc)))
            continue
        result = await session.call_tool(tool, args)
        text = "".join(getattr(c, "text", "") for c in result.content)
        replies.append(Reply(bool(result.is_error), text))
    return sorted(t.name for t in tools.tools), replies


def over_stdio(
    settings: settings_mod.Settings, token: str, calls: list[tuple[str, dict[str, Any]]]
) -> tuple[list[str], list[Reply]]:
    """Spawn `petcare-dba mcp` with the token in its environment; run the calls in one session."""
    env = {**process_env(settings), "PETCARE_MCP_TOKEN": token, "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "petcare_dba.cli", "mcp"], env=env, cwd=str(ROOT)
    )

    async def go() -> Any:
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    return await _session_calls(session, calls)

    return _run(go())


def over_http(
    url: str, token: str, calls: list[tuple[str, dict[str, Any]]]
) -> tuple[list[str], list[Reply]]:
    """One Streamable HTTP session against the app server's /mcp with a bearer token."""

    async def go() -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    return await _session_calls(session, calls)

    return _run(go())


def _run(coro: Any) -> Any:
    """Run the client in a thread of its own: a test before this one in the same worker may
    leave an event loop running in the main thread (asyncio.run refuses to nest)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
