"""Backups and restores that fail mid-way: a full disk, a terminated backend, a dropped
connection. Each leaves a clearly failed catalogue entry, no partial files, no half-restored
table, and the original table intact."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from petcare_dba.errors import ConnectionLost, PetcareError, Unavailable
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from tests.fix_db import PgServer
from tests.fix_explorer import Target, tgt  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def big(tgt: Target) -> Target:  # noqa: F811
    """~30 MB of rows, so COPY takes many messages and can be interrupted."""
    tgt.execute(
        "CREATE TABLE public.big AS SELECT g AS id, repeat(md5(g::text), 6) AS payload "
        "FROM generate_series(1, 150000) g"
    )
    return tgt


def _terminate(t: Target, username: str) -> None:
    t.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
        (f"petcare-dba/{username}/%",),
    )


def _killer(t: Target, username: str) -> object:
    fired: list[bool] = []

    def progress(done: int, total: int) -> None:
        if not fired:
            fired.append(True)
            _terminate(t, username)

    return progress


def _no_partials(rt: Runtime) -> bool:
    root = backups.store_dir(rt.settings)
    return not list(root.rglob("*.partial")) if root.exists() else True


def test_backup_killed_mid_copy_leaves_a_failed_entry_and_no_files(
    rt: Runtime, admin: Actor, big: Target
) -> None:
    with pytest.raises(ConnectionLost):
        backups.backup(rt, admin, "tgt", "public", "big", progress=_killer(big, "admin"))  # type: ignore[arg-type]
    entry = backups.list_backups(rt, admin, "tgt", "public.big")[0]
    assert entry.status == "failed" and entry.error
    assert entry.path is None and _no_partials(rt)
    outcomes = [e.outcome for e in audit.recent(rt.store, admin) if e.action == "backup.create"]
    assert outcomes[:2] == ["error", "intent"]


@contextlib.contextmanager
def _tiny_disk(path: Path) -> Iterator[None]:
    """A 256 KiB tmpfs when we may mount (root), else a per-process file size limit."""
    path.mkdir(parents=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)], check=False
        ).returncode
        == 0
    )
    old = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = None
    if not mounted:
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, old[1]))
    try:
        yield
    finally:
        if mounted:
            subprocess.run(["umount", str(path)], check=False)
        else:
            resource.setrlimit(resource.RLIMIT_FSIZE, old)
            signal.signal(signal.SIGXFSZ, handler)


def test_backup_on_a_full_disk_fails_cleanly(
    rt: Runtime, admin: Actor, big: Target, tmp_path: Path
) -> None:
    store = tmp_path / "tiny"
    small = dataclasses.replace(rt, settings=rt.settings.with_overrides(backup_dir=str(store)))
    with _tiny_disk(store), pytest.raises(Unavailable, match="could not be written"):
        backups.backup(small, admin, "tgt", "public", "big")
    entry = backups.list_backups(rt, admin, "tgt", "public.big")[0]
    assert entry.status == "failed" and entry.error
    assert "No space" in entry.error or "too large" in entry.error
    assert not list(store.rglob("data.copy"))
    # The target is fine afterwards: no backend left in COPY.
    assert big.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%%big%%' "
        "AND state = 'active' AND pid <> pg_backend_pid()"
    ) == [(0,)]


def test_restore_killed_mid_copy_leaves_no_new_table(
    rt: Runtime, admin: Actor, big: Target
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "big")
    with pytest.raises(ConnectionLost):
        backups.restore(rt, admin, entry.id, into="big_copy", progress=_killer(big, "admin"))  # type: ignore[arg-type]
    assert big.execute("SELECT to_regclass('public.big_copy')") == [(None,)]
    failed = backups.restores(rt, admin, entry.id)[0]
    assert failed["status"] == "failed" and failed["error"]


def test_replace_killed_mid_copy_leaves_the_original_intact(
    rt: Runtime, admin: Actor, big: Target
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "big")
    big.execute("DELETE FROM public.big WHERE id > 1000")
    before = big.execute("SELECT count(*), sum(id) FROM public.big")
    with pytest.raises(ConnectionLost):
        backups.restore(
            rt,
            admin,
            entry.id,
            replace=True,
            confirm="public.big",
            progress=_killer(big, "admin"),  # type: ignore[arg-type]
        )
    assert big.execute("SELECT count(*), sum(id) FROM public.big") == before
    assert backups.restores(rt, admin, entry.id)[0]["status"] == "failed"


def test_restore_of_a_corrupted_file_rolls_back(rt: Runtime, admin: Actor, big: Target) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "big")
    data = backups.store_dir(rt.settings) / str(entry.path) / "data.copy"
    with open(data, "r+b") as f:
        f.truncate(data.stat().st_size // 2)
    with pytest.raises(PetcareError):
        backups.restore(rt, admin, entry.id, into="big_half")
    assert big.execute("SELECT to_regclass('public.big_half')") == [(None,)]


def test_restore_into_a_dropped_connection_is_reported(
    rt: Runtime,
    admin: Actor,
    big: Target,
    pg: PgServer,
) -> None:
    entry = backups.backup(rt, admin, "tgt", "public", "big")
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{big.name}" ALLOW_CONNECTIONS false')
    try:
        with pytest.raises(PetcareError):
            backups.restore(rt, admin, entry.id, into="big_2")
        assert backups.restores(rt, admin, entry.id)[0]["status"] == "failed"
    finally:
        with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{big.name}" ALLOW_CONNECTIONS true')
