"""Fixtures of the file-input security tests (f-files): a target with a backed-up victim table.

`victim` is a small table with a collated column and a typmod, backed up once; `precious` is
what a smuggled statement would drop. Helpers read and rewrite a backup's manifest the way an
attacker with write access to the backup store would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from petcare_dba.services import backups, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import BackupEntry
from petcare_dba.services.runtime import Runtime
from tests.fix_db import PgServer

VICTIM_SQL = """
CREATE TABLE public.precious (id int PRIMARY KEY);
INSERT INTO public.precious SELECT generate_series(1, 7);
CREATE TABLE public.victim (id int PRIMARY KEY, name text COLLATE "C", amount numeric(10, 2));
INSERT INTO public.victim SELECT g, 'n' || g, g * 1.5 FROM generate_series(1, 30) g;
CREATE TABLE public.other (id int PRIMARY KEY, name text COLLATE "C", amount numeric(10, 2));
INSERT INTO public.other SELECT g, 'evil' || g, -g FROM generate_series(1, 30) g;
"""


@dataclass
class Victim:
    """The target database, the victim's backup and where its files are."""

    url: str
    entry: BackupEntry
    folder: Path

    def query(self, text: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(text)  # type: ignore[call-overload]
            return cur.fetchall() if cur.description else []

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind = 'r' ORDER BY relname"
            )
        ]

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.folder / "manifest.json").read_text())  # type: ignore[no-any-return]

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        (self.folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def victim(pg: PgServer, rt: Runtime, admin: Actor) -> Iterator[Victim]:
    """A target `tgt` with `victim`, `other` and `precious`, and a backup of `victim`."""
    name = pg.create_database()
    url = pg.admin_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(VICTIM_SQL)  # type: ignore[call-overload]
    connections.add(rt, admin, "tgt", url, shared=True)
    entry = backups.backup(rt, admin, "tgt", "public", "victim")
    yield Victim(url, entry, backups.store_dir(rt.settings) / str(entry.path))
    pg.drop_database(name)
