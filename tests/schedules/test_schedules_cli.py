"""`petcare-dba schedule add|list|run-now|pause|resume|remove|history` on a real store."""

from __future__ import annotations

import json

import pytest

from petcare_dba.services import schedules
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from tests.fix_engine import Target, target  # noqa: F401
from tests.schedules.fix_schedules import schedule_cli  # noqa: F401


@pytest.mark.slow
def test_the_schedule_commands_end_to_end(
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
    schedule_cli,  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    add = schedule_cli(
        "add",
        "nightly",
        "--kind",
        "backup",
        "--cron",
        "0 3 * * *",
        "--tz",
        "Europe/Berlin",
        "-c",
        "tgt",
        "--schema",
        "public",
        "--table",
        "t",
        "--keep",
        "3",
    )
    assert add.exit_code == 0 and "schedule 1 added; next run" in add.output, add.output
    listed = json.loads(schedule_cli("list", "-f", "json").output)
    assert [(s["name"], s["cron"], s["tz"], s["paused"]) for s in listed] == [
        ("nightly", "0 3 * * *", "Europe/Berlin", False)
    ]
    ran = schedule_cli("run-now", "nightly")
    assert ran.exit_code == 0 and ran.output.startswith("run 1: ok"), ran.output
    assert schedule_cli("pause", "nightly").exit_code == 0
    assert schedules.get(rt, admin, "nightly").paused
    assert schedule_cli("resume", "1").exit_code == 0
    history = json.loads(schedule_cli("history", "nightly", "-f", "json").output)
    assert [(h["status"], h["trigger"]) for h in history] == [("ok", "manual")]
    assert history[0]["result"]["rows"] == 3
    table = schedule_cli("history", "nightly").output
    assert "manual" in table and "ok" in table
    assert schedule_cli("remove", "nightly").exit_code == 0
    assert schedules.list_schedules(rt, admin) == []


@pytest.mark.slow
def test_bad_input_and_refusals_are_messages_not_tracebacks(
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
    schedule_cli,  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    make_user("vera", "viewer")
    bad = schedule_cli("add", "x", "--kind", "advisor", "--cron", "99 * * * *", "-c", "tgt")
    assert bad.exit_code != 0 and "not a valid cron expression" in str(bad.exception)
    refused = schedule_cli(
        "add",
        "x",
        "--kind",
        "backup",
        "--cron",
        "0 3 * * *",
        "-c",
        "tgt",
        "--schema",
        "public",
        "--table",
        "t",
        "--as",
        "vera",
    )
    assert refused.exit_code != 0 and "dba" in str(refused.exception)
    missing = schedule_cli("run-now", "nope")
    assert missing.exit_code != 0 and "no schedule 'nope'" in str(missing.exception)
