"""Backup files are table data (issue 13): directories 0700 and files 0600 whatever the umask,
health reports a store another OS user could read, and `up` tightens an old, loose store."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.backups import files
from petcare_dba.services.monitoring import health
from petcare_dba.services.runtime import Runtime
from tests.security.f_files_fixtures import Victim, victim  # noqa: F401

pytestmark = pytest.mark.slow


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _store_component(rt: Runtime, admin: Actor) -> health.Component:
    report = health.check(rt, admin)
    return next(c for c in report.components if c.name == "backup_store")


def test_backups_are_private_whatever_the_umask(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    old = os.umask(0o000)  # the most permissive umask an operator could run under
    try:
        other = backups.backup(rt, admin, "tgt", "public", "other")
    finally:
        os.umask(old)
    store = backups.store_dir(rt.settings)
    for entry in (victim.entry, other):
        folder = store / str(entry.path)
        assert _mode(store) == 0o700 and _mode(folder.parent) == 0o700
        assert _mode(folder) == 0o700
        assert sorted(p.name for p in folder.iterdir()) == [
            "data.copy",
            "manifest.json",
            "table.sql",
        ]
        for f in folder.iterdir():
            assert _mode(f) == 0o600, f
    assert files.loose_modes(store) == []
    assert _store_component(rt, admin).ok


def test_health_complains_about_a_loose_backup_and_up_tightens_it(
    rt: Runtime,
    admin: Actor,
    victim: Victim,  # noqa: F811
) -> None:
    data = victim.folder / "data.copy"
    os.chmod(data, 0o644)
    os.chmod(victim.folder, 0o755)  # noqa: S103 - the loose mode under test
    component = _store_component(rt, admin)
    assert not component.ok
    assert "2 backup entries" in component.detail and "data.copy" in str(component.data)
    assert files.tighten(backups.store_dir(rt.settings)) == 2
    assert _mode(data) == 0o600 and _mode(victim.folder) == 0o700
    assert _store_component(rt, admin).ok
    # A symlink planted in the store is neither followed nor chmod-ed through.
    outside = victim.folder.parent.parent.parent / "outside.txt"
    outside.write_text("x")
    os.chmod(outside, 0o644)
    os.symlink(outside, victim.folder / "link")
    assert files.tighten(backups.store_dir(rt.settings)) == 0
    assert _mode(outside) == 0o644
