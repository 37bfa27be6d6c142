"""Helpers of the schedule tests: make a schedule due now (or long ago) and count its runs."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest


def make_due(meta_url: str, schedule_id: int, ago: str = "1 second") -> None:
    """Move a schedule's next due time into the past (as the store's superuser)."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE petcare.schedules SET next_due_at = now() - %s::interval WHERE id = %s",
            (ago, schedule_id),
        )


def runs(meta_url: str, schedule_id: int) -> list[dict[str, Any]]:
    """Every run row of a schedule, oldest first."""
    with psycopg.connect(meta_url, autocommit=True) as conn:
        cur = conn.execute(
            "SELECT id, trigger, missed, status, error, result, instance "
            "FROM petcare.schedule_runs WHERE schedule_id = %s ORDER BY id",
            (schedule_id,),
        )
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture
def schedule_cli(test_settings, admin, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke `petcare-dba schedule ...` in-process on this test's store."""
    from typer.testing import CliRunner

    from petcare_dba.cli import app

    for name, source in test_settings.sources.items():
        if source == "env":
            monkeypatch.setenv("PETCARE_" + name.upper(), str(test_settings.values[name]))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["schedule", *args])
