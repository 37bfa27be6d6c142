"""The SQL editor's tabs in the metadata store: per user, limited, private under RLS.

Service calls on a real store, then the same isolation checked underneath the service, in SQL
as the app role with another user's identity (row level security, not the WHERE clauses,
must be what keeps tabs apart). Hostile cases: oversized and NUL-holding text, forged ids,
names with control characters, one tab too many.
"""

from __future__ import annotations

import psycopg
import pytest

from petcare_dba.errors import NotFound, PetcareError, QuotaExceeded, ValidationError
from petcare_dba.services.actor import Actor
from petcare_dba.services.editor import tabs
from petcare_dba.services.runtime import Runtime
from tests.fix_engine import Target, target

__all__ = ["target"]  # fixture used by name


def test_tabs_open_save_rename_select_close_and_come_back(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    assert tabs.list_tabs(rt, admin) == []
    first = tabs.open_tab(rt, admin, "  Bookings  ", "SELECT 1", "tgt")
    second = tabs.open_tab(rt, admin, "Payments")
    tabs.save_tab(rt, admin, second, "SELECT 2 -- ção", "tgt")
    tabs.rename_tab(rt, admin, second, "Payments by month")
    tabs.select_tab(rt, admin, first)
    found = tabs.list_tabs(rt, admin)
    assert [(t.id, t.name, t.content, t.connection, t.position) for t in found] == [
        (first, "Bookings", "SELECT 1", "tgt", 0),
        (second, "Payments by month", "SELECT 2 -- ção", "tgt", 1),
    ]
    assert tabs.selected(found).id == first  # type: ignore[union-attr]
    tabs.select_tab(rt, admin, second)
    assert tabs.selected(tabs.list_tabs(rt, admin)).id == second  # type: ignore[union-attr]
    tabs.close_tab(rt, admin, first)
    assert [t.id for t in tabs.list_tabs(rt, admin)] == [second]
    # A connection that does not exist (or is not shared) is stored as none, never guessed.
    tabs.save_tab(rt, admin, second, "SELECT 3", "nope")
    assert tabs.list_tabs(rt, admin)[0].connection is None


def test_another_users_tab_id_matches_nothing(rt: Runtime, admin: Actor, make_user) -> None:  # type: ignore[no-untyped-def]
    mine = tabs.open_tab(rt, admin, "secret", "SELECT 'admin only'")
    vera = make_user("vera", "viewer")
    assert tabs.list_tabs(rt, vera) == []
    for forged in (
        lambda: tabs.save_tab(rt, vera, mine, "SELECT 'stolen'", None),
        lambda: tabs.rename_tab(rt, vera, mine, "mine now"),
        lambda: tabs.select_tab(rt, vera, mine),
        lambda: tabs.close_tab(rt, vera, mine),
    ):
        with pytest.raises(NotFound, match=f"no editor tab {mine} of yours"):
            forged()
    [kept] = tabs.list_tabs(rt, admin)
    assert (kept.name, kept.content) == ("secret", "SELECT 'admin only'")


def test_rls_keeps_tabs_apart_below_the_service(
    rt: Runtime, admin: Actor, make_user, meta_url: str
) -> None:  # type: ignore[no-untyped-def]
    mine = tabs.open_tab(rt, admin, "secret", "SELECT 'admin only'")
    vera = make_user("vera", "viewer")
    tabs.open_tab(rt, vera, "vera's")
    # Raw SQL without the service's user filter, as the app role with vera's identity.
    with rt.store.tx(vera.identity) as tx:
        assert tx.value("SELECT count(*) FROM petcare.editor_tabs") == 1
        assert (
            tx.execute(
                "UPDATE petcare.editor_tabs SET content = 'x' WHERE id = %(id)s", {"id": mine}
            )
            == 0
        )
        assert tx.execute("DELETE FROM petcare.editor_tabs WHERE id = %(id)s", {"id": mine}) == 0
    with pytest.raises(PetcareError, match="row-level security"):
        with rt.store.tx(vera.identity) as tx:
            tx.execute(
                "INSERT INTO petcare.editor_tabs (user_id, name) VALUES (%(u)s, 'planted')",
                {"u": admin.user_id},
            )
    # Even an admin's identity sees only its own tabs: tabs are private scratch pads.
    with rt.store.tx(admin.identity) as tx:
        assert tx.value("SELECT count(*) FROM petcare.editor_tabs") == 1
    with psycopg.connect(meta_url) as conn:  # the owner's view: both rows are there
        row = conn.execute(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*) FROM "
            "petcare.editor_tabs) FROM pg_class c WHERE c.oid = 'petcare.editor_tabs'::regclass"
        ).fetchone()
    assert row == (True, True, 2)


def test_hostile_text_names_and_one_tab_too_many(rt: Runtime, admin: Actor) -> None:
    limit = rt.settings.max_sql_bytes
    with pytest.raises(ValidationError, match="max_sql_bytes"):
        tabs.open_tab(rt, admin, "big", "x" * (limit + 1))
    tab = tabs.open_tab(rt, admin, "ok", "SELECT 1")
    with pytest.raises(ValidationError):
        tabs.save_tab(rt, admin, tab, "é" * (limit // 2 + 1), None)  # fits in chars, not bytes
    with pytest.raises(ValidationError, match="NUL"):
        tabs.save_tab(rt, admin, tab, "SELECT 1\x00", None)
    for bad in ("", "   ", "a" * (tabs.MAX_NAME + 1), "tab\x1b[31m", "\ud800"):
        with pytest.raises(ValidationError):
            tabs.rename_tab(rt, admin, tab, bad)
    assert tabs.list_tabs(rt, admin)[0].content == "SELECT 1"
    for n in range(tabs.MAX_TABS - 1):
        tabs.open_tab(rt, admin, f"t{n}")
    with pytest.raises(QuotaExceeded, match=f"at most {tabs.MAX_TABS}"):
        tabs.open_tab(rt, admin, "one too many")
    assert len(tabs.list_tabs(rt, admin)) == tabs.MAX_TABS
