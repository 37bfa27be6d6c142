"""Backups and restores whose process dies: heartbeats, and the job that ends them.

A backup killed with SIGKILL leaves a 'running' row and a partial directory; the reconcile job
marks it failed, removes the directory and audits it. A backup that is merely slow keeps beating
and is left alone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import reconcile
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.settings import Settings
from petcare_dba.ui import i18n
from tests.fix_db import process_env
from tests.fix_explorer import Target, tgt  # noqa: F401

pytestmark = pytest.mark.slow


def _running(rt: Runtime, admin: Actor) -> list[backups.BackupEntry]:
    return [b for b in backups.list_backups(rt, admin) if b.status == "running"]


def test_a_killed_backup_is_failed_cleaned_and_audited(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
    test_settings: Settings,
) -> None:
    env = process_env(test_settings)
    script = (
        "import time\n"
        "from petcare_dba import settings\n"
        "from petcare_dba.services import backups\n"
        "from petcare_dba.services.security import users\n"
        "from petcare_dba.services.runtime import Runtime\n"
        "rt = Runtime.start(settings.load())\n"
        "backups.backup(rt, users.actor_for(rt, None), 'tgt', 'public', 'all_types',\n"
        "               progress=lambda done, total: time.sleep(60))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not _running(rt, admin):
            assert time.monotonic() < deadline, "the backup never started"
            time.sleep(0.2)
        (entry,) = _running(rt, admin)
        partial = backups.partial_dir(rt.settings, entry.id, "tgt", "public", "all_types")
        while not (partial / "data.copy").exists():
            assert time.monotonic() < deadline, "no partial data was written"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert reconcile.reconcile_interrupted(rt, admin, stale_s=3600) == []  # not stale yet
    ended = reconcile.reconcile_interrupted(rt, admin, stale_s=0)
    assert ended == [f"backup {entry.id} of tgt:public.all_types"]
    after = backups.get(rt, admin, entry.id)
    assert after.status == "failed" and after.error and after.error.startswith("interrupted")
    # Written by the SQL as English, read back as the catalogue's sentence: pt-BR on the page.
    assert getattr(after.error, "key", "") == "msg.backups.interrupted"
    assert i18n.said("pt-BR", after.error).startswith("interrompido: ")
    assert not partial.exists()
    (event,) = [
        e
        for e in audit.recent(rt.store, admin, action="backup.create", outcome="error")
        if e.detail.get("backup_id") == entry.id
    ]
    assert event.detail["reconciled"] is True
    assert reconcile.reconcile_interrupted(rt, admin, stale_s=0) == []  # once


def test_a_slow_backup_keeps_beating_and_is_left_alone(
    rt: Runtime,
    admin: Actor,
    tgt: Target,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reconcile, "HEARTBEAT_S", 0.2)
    release = threading.Event()
    box: dict[str, object] = {}

    def slow(done: int, total: int) -> None:
        release.wait(20)

    def run() -> None:
        box["entry"] = backups.backup(rt, admin, "tgt", "public", "all_types", progress=slow)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while not _running(rt, admin):
            assert time.monotonic() < deadline, "the backup never started"
            time.sleep(0.1)
        time.sleep(2.5)  # longer than the staleness limit used below
        assert reconcile.reconcile_interrupted(rt, admin, stale_s=2) == []
        assert len(_running(rt, admin)) == 1
    finally:
        release.set()
        worker.join(30)
    entry = box["entry"]
    assert isinstance(entry, backups.BackupEntry) and entry.status == "ok"
