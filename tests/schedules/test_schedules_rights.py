"""Who may schedule what, re-checked at every run, and hostile input: a viewer cannot schedule
a backup, an analyst no DDL script, a demoted or disabled owner's schedule fails with a clear
recorded reason, a removed project member's schedule stops, members see but cannot change a
project's schedules; names, counts and kinds from an attacker are refused or stored inertly."""

from __future__ import annotations

import pytest

from petcare_dba.errors import (
    NeedsConfirmation,
    NotFound,
    PermissionDenied,
    PetcareError,
    ValidationError,
)
from petcare_dba.services import projects, schedules
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit, users
from tests.fix_engine import Target, target  # noqa: F401
from tests.schedules.fix_schedules import runs

BACKUP = {
    "kind": "backup",
    "cron_expr": "0 3 * * *",
    "connection": "tgt",
    "schema": "public",
    "table": "t",
}


def test_a_viewer_cannot_schedule_a_backup_and_the_refusal_is_audited(
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
) -> None:
    vera = make_user("vera", "viewer")
    with pytest.raises(PermissionDenied, match="dba"):
        schedules.add(rt, vera, name="b", **BACKUP)  # type: ignore[arg-type]
    refused = audit.search(rt.store, admin, action="schedule.add", outcome="refused")
    assert [e.username for e in refused] == ["vera"]
    assert schedules.list_schedules(rt, admin) == []


def test_an_analyst_schedules_reads_and_dml_but_no_ddl(
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
) -> None:
    ana = make_user("ana", "analyst")
    projects.create(rt, ana, "mine")
    projects.scripts.save(rt, ana, "mine", "ddl", "CREATE TABLE x (id int)")
    projects.scripts.save(rt, ana, "mine", "add", "INSERT INTO t VALUES (7, 'seven')")
    projects.scripts.save(rt, ana, "mine", "wipe", "DELETE FROM t")
    common = {"kind": "script", "cron_expr": "0 3 * * *", "connection": "tgt", "project": "mine"}
    with pytest.raises(PermissionDenied, match="analyst role may not run"):
        schedules.add(rt, ana, name="ddl", script="ddl", **common)  # type: ignore[arg-type]
    with pytest.raises(NeedsConfirmation):  # a DELETE of every row asks first
        schedules.add(rt, ana, name="wipe", script="wipe", **common)  # type: ignore[arg-type]
    sid = schedules.add(rt, ana, name="add", script="add", **common)  # type: ignore[arg-type]
    assert schedules.run_now(rt, ana, sid).status == "ok"
    assert (7, "seven") in target.table()


def test_a_demoted_or_disabled_owner_s_schedule_fails_with_the_reason(
    rt: Runtime,
    admin: Actor,
    meta_url: str,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
) -> None:
    dana = make_user("dana", "dba")
    sid = schedules.add(rt, dana, name="b", **BACKUP)  # type: ignore[arg-type]
    users.set_role(rt, admin, "dana", "analyst")
    run = schedules.run_now(rt, admin, sid)
    assert run.status == "failed" and "needs the dba role" in (run.error or "")
    users.set_role(rt, admin, "dana", "dba")
    users.set_disabled(rt, admin, "dana")
    run = schedules.run_now(rt, admin, sid)
    assert run.status == "failed" and "'dana' is disabled" in (run.error or "")
    assert [r["status"] for r in runs(meta_url, sid)] == ["failed", "failed"]
    outcomes = [e.outcome for e in audit.search(rt.store, admin, action="schedule.run")]
    assert outcomes == ["error", "error"]


@pytest.mark.slow
def test_a_removed_project_member_s_schedule_stops_and_members_only_see(
    rt: Runtime,
    admin: Actor,
    make_user,  # type: ignore[no-untyped-def]
    target: Target,  # noqa: F811
) -> None:
    ana = make_user("ana", "analyst")
    bob = make_user("bob", "analyst")
    eve = make_user("eve", "analyst")
    projects.create(rt, admin, "team")
    projects.add_member(rt, admin, "team", "ana", "editor")
    projects.add_member(rt, admin, "team", "bob", "viewer")
    projects.scripts.save(rt, ana, "team", "q", "SELECT 1 AS one")
    sid = schedules.add(
        rt,
        ana,
        name="q",
        kind="script",
        cron_expr="0 3 * * *",
        connection="tgt",
        project="team",
        script="q",
    )
    assert [s.id for s in schedules.list_schedules(rt, bob)] == [sid]  # a member sees it
    assert schedules.list_schedules(rt, eve) == []  # an outsider does not
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        schedules.pause(rt, bob, sid)
    with pytest.raises(PermissionDenied):
        schedules.run_now(rt, bob, sid)
    with pytest.raises(NotFound):
        schedules.remove(rt, eve, sid)
    assert schedules.run_now(rt, ana, sid).status == "ok"
    projects.remove_member(rt, admin, "team", "ana")
    run = schedules.run_now(rt, admin, sid)
    assert run.status == "failed" and "not a member" in (run.error or "")


HOSTILE = [
    ("name", "", "schedule name"),
    ("name", "x" * 101, "schedule name"),
    ("name", "bad\x00name", "schedule name"),
    ("name", "two\nlines", "schedule name"),
    ("keep_count", 10**9, "keep count"),
    ("keep_count", -1, "keep count"),
    ("keep_days", 10**6, "keep days"),
    ("kind", "shell", "kind must be"),
    ("table", "t\x00; DROP TABLE t", "--schema and --table"),
    ("cron_expr", "0 3 * * * ; rm -rf /", "not a cron expression"),
    ("tz", "../../../etc/passwd", "unknown time zone"),
]


def test_hostile_input_is_refused(rt: Runtime, admin: Actor) -> None:
    for field, value, words in HOSTILE:  # checked before any connection is looked up
        with pytest.raises(ValidationError, match=words):
            schedules.add(rt, admin, **{"name": "n", **BACKUP, field: value})  # type: ignore[arg-type]
    assert schedules.list_schedules(rt, admin) == []


def test_a_hostile_but_printable_name_is_stored_verbatim_and_unique_per_owner(
    rt: Runtime,
    admin: Actor,
    target: Target,  # noqa: F811
) -> None:
    name = "x'); DROP TABLE petcare.schedules; -- <script>"
    sid = schedules.add(rt, admin, name=name, **BACKUP)  # type: ignore[arg-type]
    assert schedules.get(rt, admin, sid).name == name
    with pytest.raises(PetcareError, match=r"unique|already|duplicate"):
        schedules.add(rt, admin, name=name.upper(), **BACKUP)  # type: ignore[arg-type]
