"""Scripts and versions: immutable saves, history, diff, revert, conflicts, restore, export/import,
runs through the engine linked to the exact version."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import psycopg
import pytest

from petcare_dba.errors import (
    EditConflict,
    NotFound,
    PermissionDenied,
    PetcareError,
    ValidationError,
)
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import bundle, scripts, versions
from petcare_dba.services.projects import runs as project_runs
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n
from tests.fix_engine import Target, runs, target

__all__ = ["target"]


@pytest.fixture
def team(rt: Runtime, make_user: Any) -> dict[str, Actor]:
    olga = make_user("olga", "analyst")
    eddie = make_user("eddie", "analyst")
    vera = make_user("vera", "viewer")
    return {"olga": olga, "eddie": eddie, "vera": vera, "xavier": make_user("xavier", "analyst")}


@pytest.fixture
def project(rt: Runtime, team: dict[str, Actor]) -> int:
    pid = projects.create(rt, team["olga"], "Reports")
    projects.add_member(rt, team["olga"], pid, "eddie", "editor")
    projects.add_member(rt, team["olga"], pid, "vera", "viewer")
    return pid


def test_every_save_is_a_new_hashed_version_and_identical_content_is_not(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    olga, eddie = team["olga"], team["eddie"]
    first = scripts.save(rt, olga, project, "pets", "SELECT 1", "first", tags="Daily, pets")
    assert (first.version, first.created, first.new_script) == (1, True, True)
    second = scripts.save(rt, eddie, project, "pets", "SELECT 2", "second", base_version=1)
    assert (second.version, second.created) == (2, True)
    same = scripts.save(rt, eddie, project, "pets", "SELECT 2", "again", base_version=2)
    assert (same.version, same.created) == (2, False)
    history = versions.history(rt, team["vera"], project, "pets")
    assert [(v.version, v.author, v.message) for v in history] == [
        (2, "eddie", "second"),
        (1, "olga", "first"),
    ]
    assert history[0].content_hash == hashlib.sha256(b"SELECT 2").hexdigest()
    script = scripts.get(rt, team["vera"], project, "pets")
    assert (script.current_version, script.tags, script.version_author) == (
        2,
        ["daily", "pets"],
        "eddie",
    )


def test_versions_are_immutable_even_for_a_superuser(
    rt: Runtime, team: dict[str, Actor], project: int, meta_url: str
) -> None:
    scripts.save(rt, team["olga"], project, "q", "SELECT 1")
    with psycopg.connect(meta_url) as conn:  # superuser: RLS does not apply, the trigger does
        for statement in (
            "UPDATE petcare.script_versions SET content = 'DROP TABLE pets'",
            "DELETE FROM petcare.script_versions",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()


def test_the_database_numbers_and_hashes_versions_whatever_the_client_sends(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    saved = scripts.save(rt, team["olga"], project, "q", "SELECT 1")
    with rt.store.tx(team["olga"].identity) as tx:
        row = tx.one(
            "INSERT INTO petcare.script_versions (script_id, content, content_hash, author_id) "
            "VALUES (%(s)s, 'SELECT 9', 'forged', %(a)s) RETURNING version, content_hash",
            {"s": saved.script_id, "a": team["olga"].user_id},
        )
    assert row == {"version": 2, "content_hash": hashlib.sha256(b"SELECT 9").hexdigest()}
    with pytest.raises(PetcareError, match="not next"), rt.store.tx(team["olga"].identity) as tx:
        tx.execute(
            "INSERT INTO petcare.script_versions (script_id, version, content, content_hash, "
            "author_id) VALUES (%(s)s, 7, 'x', '', %(a)s)",
            {"s": saved.script_id, "a": team["olga"].user_id},
        )


def test_saving_on_a_replaced_version_is_a_conflict_with_the_diff(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    olga, eddie = team["olga"], team["eddie"]
    scripts.save(rt, olga, project, "q", "SELECT id\nFROM pets")
    scripts.save(rt, eddie, project, "q", "SELECT id, name\nFROM pets", base_version=1)
    with pytest.raises(EditConflict) as caught:
        scripts.save(rt, olga, project, "q", "SELECT id\nFROM pets\nLIMIT 5", base_version=1)
    conflict = caught.value
    assert (conflict.base_version, conflict.current_version, conflict.current_author) == (
        1,
        2,
        "eddie",
    )
    assert "+LIMIT 5" in conflict.diff and "-SELECT id, name" in conflict.diff
    assert conflict.current_content == "SELECT id, name\nFROM pets"
    assert str(conflict) == "'q' changed since v1: v2 was saved by eddie; nothing was saved"
    said = i18n.said("pt-BR", conflict.message)  # the editor's conflict box, in the language
    assert said == "'q' mudou desde a v1: a v2 foi salva por eddie; nada foi salvo"
    assert scripts.get(rt, olga, project, "q").current_version == 2  # nothing was saved
    kept = scripts.save(rt, olga, project, "q", "SELECT id\nFROM pets\nLIMIT 5", base_version=2)
    assert kept.version == 3


def test_diff_between_any_two_versions_and_revert_appends(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    olga = team["olga"]
    for text in ("SELECT 1\nFROM a", "SELECT 2\nFROM a", "SELECT 3\nFROM b"):
        scripts.save(rt, olga, project, "q", text)
    d = versions.diff(rt, team["vera"], project, "q", 1, 3)
    assert (d.added, d.removed) == (2, 2)
    assert "-SELECT 1" in d.unified and "+FROM b" in d.unified
    assert [(r.tag, r.left, r.right) for r in d.rows] == [
        ("replace", "SELECT 1", "SELECT 3"),
        ("replace", "FROM a", "FROM b"),
    ]
    back = versions.revert(rt, olga, project, "q", 1)
    assert back.version == 4
    latest = versions.version(rt, olga, project, "q")
    assert (latest.content, latest.message) == ("SELECT 1\nFROM a", "Revert to v1")
    assert len(versions.history(rt, olga, project, "q")) == 4


def test_viewers_read_but_do_not_write_and_outsiders_see_nothing(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    scripts.save(rt, team["olga"], project, "q", "SELECT 1")
    assert versions.version(rt, team["vera"], project, "q").content == "SELECT 1"
    with pytest.raises(PermissionDenied):
        scripts.save(rt, team["vera"], project, "q", "SELECT 2")
    with pytest.raises(PermissionDenied):
        scripts.delete(rt, team["vera"], project, "q")
    with pytest.raises(NotFound):
        scripts.list_scripts(rt, team["xavier"], project)


def test_delete_and_restore_a_script_keeps_its_versions(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    eddie = team["eddie"]
    scripts.save(rt, eddie, project, "q", "SELECT 1")
    scripts.save(rt, eddie, project, "q", "SELECT 2")
    scripts.delete(rt, eddie, project, "q")
    assert scripts.list_scripts(rt, eddie, project) == []
    assert [s.name for s in scripts.list_scripts(rt, eddie, project, deleted=True)] == ["q"]
    scripts.save(rt, eddie, project, "q", "SELECT 'new'")  # the name is free again
    with pytest.raises(ValidationError, match="live script named 'q' exists"):
        scripts.restore(rt, eddie, project, "q")
    scripts.update(rt, eddie, project, "q", new_name="q-new")
    scripts.restore(rt, eddie, project, "q")
    assert [s.name for s in scripts.list_scripts(rt, eddie, project)] == ["q", "q-new"]
    assert len(versions.history(rt, eddie, project, "q")) == 2


def test_export_and_import_round_trip_with_every_version(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    olga = team["olga"]
    scripts.save(rt, olga, project, "daily pets", "SELECT 1", "one", tags=["pets"])
    scripts.save(rt, olga, project, "daily pets", "SELECT 2", "two")
    scripts.save(rt, olga, project, "clinics", "SELECT 'c'")
    filename, data = bundle.export_zip(rt, olga, project)
    assert filename == "Reports.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        assert zf.read("scripts/daily_pets.sql") == b"SELECT 2"
    assert {"versions/daily_pets/v0001.sql", "versions/daily_pets/v0002.sql"} <= names
    assert [len(s["versions"]) for s in manifest["scripts"]] == [1, 2]
    result = bundle.import_zip(rt, team["eddie"], data, name="Reports copy")
    assert (result.scripts, result.versions) == (2, 3)
    copied = versions.history(rt, team["eddie"], result.project_id, "daily pets")
    assert [v.content for v in copied] == ["SELECT 2", "SELECT 1"]
    # Issue 14: the importer is named as such; the archive's author claim is quoted as a claim.
    assert copied[0].message.startswith("two [imported by eddie; the archive says v2 by 'olga'")


def test_import_refuses_tampered_content_and_creates_nothing(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    scripts.save(rt, team["olga"], project, "q", "SELECT 1")
    _, data = bundle.export_zip(rt, team["olga"], project)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(
                item, b"DROP TABLE pets" if item.filename.startswith("versions/") else body
            )
    with pytest.raises(ValidationError, match="sha256"):
        bundle.import_zip(rt, team["eddie"], out.getvalue())
    with pytest.raises(ValidationError, match="not a zip"):
        bundle.import_zip(rt, team["eddie"], b"nope")
    assert [p.name for p in projects.list_projects(rt, team["eddie"])] == ["Reports"]


def test_run_links_the_exact_version_and_history_is_per_version(
    rt: Runtime, team: dict[str, Actor], project: int, target: Target, meta_url: str
) -> None:
    olga, vera = team["olga"], team["vera"]
    scripts.save(rt, olga, project, "count", "SELECT count(*) FROM t")
    scripts.save(rt, olga, project, "count", "SELECT count(*) FROM t WHERE id > 1")
    scripts.update(rt, olga, project, "count", default_connection="tgt")
    first = project_runs.run_script(rt, vera, project, "count", version=1)
    assert first.result.results[0].rows == ((3,),)
    latest = project_runs.run_script(rt, olga, project, "count", connection="tgt")
    assert latest.result.results[0].rows == ((2,),)
    rows = runs(meta_url)
    assert [(r["project_id"], r["script_version_id"], r["outcome"]) for r in rows] == [
        (project, first.version.id, "ok"),
        (project, latest.version.id, "ok"),
    ]
    history = project_runs.runs(rt, vera, project, "count")
    assert [(h.version, h.username, h.connection) for h in history] == [
        (2, "olga", "tgt"),
        (1, "vera", "tgt"),
    ]
    assert [h.version for h in project_runs.runs(rt, olga, project, "count", version=1)] == [1]


def test_a_viewer_run_obeys_the_engine_read_only_rule(
    rt: Runtime, team: dict[str, Actor], project: int, target: Target
) -> None:
    scripts.save(rt, team["olga"], project, "purge", "DELETE FROM t WHERE id = 1")
    with pytest.raises(PetcareError):
        project_runs.run_script(rt, team["vera"], project, "purge", connection="tgt")
    assert len(target.table()) == 3


def test_concurrent_saves_on_the_same_base_give_one_version_and_one_conflict(
    rt: Runtime, team: dict[str, Actor], project: int
) -> None:
    import threading

    scripts.save(rt, team["olga"], project, "q", "SELECT 1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(who: str, text: str) -> None:
        barrier.wait()
        try:
            scripts.save(rt, team[who], project, "q", text, base_version=1)
            outcomes.append("saved")
        except EditConflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=save, args=("olga", "SELECT 'olga'")),
        threading.Thread(target=save, args=("eddie", "SELECT 'eddie'")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert [v.version for v in versions.history(rt, team["olga"], project, "q")] == [2, 1]
