"""Projects and members through the services: lifecycle, roles, ownership, admins, audit."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from petcare_dba.errors import NotFound, PermissionDenied, PetcareError, ValidationError
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import scripts
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit


@pytest.fixture
def team(rt: Runtime, make_user: Any) -> dict[str, Actor]:
    return {
        "olga": make_user("olga", "analyst"),
        "eddie": make_user("eddie", "analyst"),
        "vera": make_user("vera", "viewer"),
        "xavier": make_user("xavier", "analyst"),
    }


def _membros(meta_url: str, project_id: int) -> list[str]:
    with psycopg.connect(meta_url) as conn:
        row = conn.execute(
            "SELECT membros FROM petcare.projetos_analytics WHERE id = %s", (project_id,)
        ).fetchone()
    assert row is not None
    return list(row[0])


def test_creator_owns_the_project_and_only_members_see_it(
    rt: Runtime, team: dict[str, Actor]
) -> None:
    olga, xavier = team["olga"], team["xavier"]
    pid = projects.create(rt, olga, "Vaccination report", "monthly numbers")
    mine = projects.list_projects(rt, olga)
    assert [(p.id, p.my_role, p.owner, p.scripts) for p in mine] == [(pid, "owner", "olga", 0)]
    assert projects.list_projects(rt, xavier) == []
    with pytest.raises(NotFound):
        projects.get(rt, xavier, pid)
    with pytest.raises(NotFound):
        projects.get(rt, xavier, "Vaccination report")


def test_my_projects_search_matches_name_and_description(
    rt: Runtime, team: dict[str, Actor]
) -> None:
    olga = team["olga"]
    projects.create(rt, olga, "Billing", "invoices and payments")
    projects.create(rt, olga, "Clinic load", "appointments per vet")
    assert [p.name for p in projects.list_projects(rt, olga, "pay")] == ["Billing"]
    assert [p.name for p in projects.list_projects(rt, olga, "clinic")] == ["Clinic load"]
    assert projects.list_projects(rt, olga, "100%") == []  # LIKE wildcards are literal


def test_owner_names_are_unique_per_owner(rt: Runtime, team: dict[str, Actor]) -> None:
    projects.create(rt, team["olga"], "Billing")
    with pytest.raises(ValidationError, match="already own"):
        projects.create(rt, team["olga"], "billing")
    projects.create(rt, team["eddie"], "Billing")  # another owner may reuse the name


def test_rename_describe_archive_are_owner_only(rt: Runtime, team: dict[str, Actor]) -> None:
    olga, eddie = team["olga"], team["eddie"]
    pid = projects.create(rt, olga, "Billing")
    projects.add_member(rt, olga, pid, "eddie", "editor")
    for change in (
        lambda: projects.rename(rt, eddie, pid, "Mine now"),
        lambda: projects.describe(rt, eddie, pid, "x"),
        lambda: projects.archive(rt, eddie, pid),
    ):
        with pytest.raises(PermissionDenied):
            change()
    projects.rename(rt, olga, pid, "Billing 2026")
    projects.describe(rt, olga, pid, "all invoices")
    got = projects.get(rt, eddie, pid)
    assert (got.name, got.description, got.updated_by) == ("Billing 2026", "all invoices", "olga")


def test_delete_needs_archive_first_and_removes_scripts(
    rt: Runtime, team: dict[str, Actor], meta_url: str
) -> None:
    olga = team["olga"]
    pid = projects.create(rt, olga, "Old")
    scripts.save(rt, olga, pid, "q", "SELECT 1", "first")
    scripts.save(rt, olga, pid, "q", "SELECT 2", "second")
    with pytest.raises(ValidationError, match="archive"):
        projects.delete(rt, olga, pid)
    projects.archive(rt, olga, pid)
    with pytest.raises(PermissionDenied, match="archived"):
        scripts.save(rt, olga, pid, "q", "SELECT 3")
    projects.delete(rt, olga, pid)
    assert projects.list_projects(rt, olga) == []
    with psycopg.connect(meta_url) as conn:
        assert conn.execute("SELECT count(*) FROM petcare.script_versions").fetchone() == (0,)


def test_members_roles_and_membros_mirror(
    rt: Runtime, team: dict[str, Actor], meta_url: str
) -> None:
    olga, vera, eddie = team["olga"], team["vera"], team["eddie"]
    pid = projects.create(rt, olga, "Shared")
    assert _membros(meta_url, pid) == ["olga"]
    projects.add_member(rt, olga, pid, "vera", "viewer")
    projects.add_member(rt, olga, pid, "Eddie", "editor")
    assert _membros(meta_url, pid) == ["eddie", "olga", "vera"]
    assert [(m.username, m.role) for m in projects.members(rt, vera, pid)] == [
        ("olga", "owner"),
        ("eddie", "editor"),
        ("vera", "viewer"),
    ]
    with pytest.raises(PermissionDenied):
        projects.add_member(rt, eddie, pid, "xavier", "viewer")
    with pytest.raises(NotFound):
        projects.add_member(rt, olga, pid, "nobody", "viewer")
    with pytest.raises(ValidationError):
        projects.add_member(rt, olga, pid, "xavier", "owner")
    projects.set_member_role(rt, olga, pid, "vera", "editor")
    projects.remove_member(rt, eddie, pid, "eddie")  # leaving is allowed
    projects.add_member(rt, olga, pid, "xavier", "viewer")
    with pytest.raises(PermissionDenied):
        projects.remove_member(rt, vera, pid, "xavier")  # an editor does not manage members
    projects.remove_member(rt, olga, pid, "xavier")
    with pytest.raises(ValidationError, match="owner cannot leave"):
        projects.remove_member(rt, olga, pid, "olga")
    assert _membros(meta_url, pid) == ["olga", "vera"]


def test_transfer_ownership_keeps_one_owner(rt: Runtime, team: dict[str, Actor]) -> None:
    olga, vera = team["olga"], team["vera"]
    pid = projects.create(rt, olga, "Handover")
    projects.add_member(rt, olga, pid, "vera", "viewer")
    projects.transfer(rt, olga, pid, "vera")
    got = projects.get(rt, vera, pid)
    assert (got.owner, got.my_role) == ("vera", "owner")
    roles = {m.username: m.role for m in projects.members(rt, olga, pid)}
    assert roles == {"vera": "owner", "olga": "editor"}
    with pytest.raises(PermissionDenied):
        projects.rename(rt, olga, pid, "back")
    projects.transfer(rt, vera, pid, "xavier")  # a non-member is added as the owner
    assert projects.get(rt, team["xavier"], pid).my_role == "owner"


def test_database_refuses_a_second_owner_or_an_ownerless_project(
    rt: Runtime, team: dict[str, Actor]
) -> None:
    olga = team["olga"]
    pid = projects.create(rt, olga, "Strict")
    projects.add_member(rt, olga, pid, "vera", "viewer")
    with pytest.raises(PetcareError, match="exactly one owner"), rt.store.tx(olga.identity) as tx:
        tx.execute(
            "UPDATE petcare.project_members SET role = 'owner' WHERE user_id = %(u)s",
            {"u": team["vera"].user_id},
        )
    with pytest.raises(PetcareError, match="exactly one owner"), rt.store.tx(olga.identity) as tx:
        tx.execute(
            "UPDATE petcare.project_members SET role = 'editor' WHERE user_id = %(u)s",
            {"u": olga.user_id},
        )


def test_admin_sees_every_project_only_on_request_and_is_audited(
    rt: Runtime, team: dict[str, Actor], admin: Actor
) -> None:
    pid = projects.create(rt, team["olga"], "Private")
    assert projects.list_projects(rt, admin) == []
    assert [p.id for p in projects.list_projects(rt, admin, all_projects=True)] == [pid]
    assert projects.get(rt, admin, pid).my_role is None
    with pytest.raises(PermissionDenied):
        projects.list_projects(rt, team["olga"], all_projects=True)
    actions = [e.action for e in audit.recent(rt.store, admin)]
    assert "project.admin_list" in actions and "project.admin_view" in actions


def test_every_change_is_audited(rt: Runtime, team: dict[str, Actor], admin: Actor) -> None:
    olga = team["olga"]
    pid = projects.create(rt, olga, "Audited")
    projects.rename(rt, olga, pid, "Audited 2")
    projects.add_member(rt, olga, pid, "vera", "viewer")
    projects.set_member_role(rt, olga, pid, "vera", "editor")
    projects.remove_member(rt, olga, pid, "vera")
    scripts.save(rt, olga, pid, "q", "SELECT 1")
    scripts.delete(rt, olga, pid, "q")
    projects.archive(rt, olga, pid)
    projects.delete(rt, olga, pid)
    actions = [e.action for e in audit.recent(rt.store, admin, username="olga")]
    for action in (
        "project.create",
        "project.rename",
        "project.member_add",
        "project.member_role",
        "project.member_remove",
        "script.save",
        "script.delete",
        "project.archive",
        "project.delete",
    ):
        assert action in actions, action
