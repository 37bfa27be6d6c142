"""DDL run through the engine refreshes the explorer's cached catalog of that connection."""

from __future__ import annotations

from petcare_dba.services import explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from tests.fix_engine import Target, target

__all__ = ["target"]


def test_ddl_through_the_engine_invalidates_the_explorer_cache(
    rt: Runtime, admin: Actor, target: Target
) -> None:
    before = {r.name for r in explorer.discover(rt, admin, target.name).relations}
    assert "t" in before and "fresh_table" not in before
    engine.run(rt, admin, target.name, "CREATE TABLE fresh_table (id int PRIMARY KEY)")
    after = {r.name for r in explorer.discover(rt, admin, target.name).relations}
    assert "fresh_table" in after
