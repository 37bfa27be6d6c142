"""S1 at the service layer: two users running queries at the same time, 100 rounds each, see only
their own results, history, audit rows, connections and AI conversations."""

from __future__ import annotations

import threading

from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import engine
from tests.fix_db import PgServer
from tests.fix_engine import Target, target

__all__ = ["target"]
ROUNDS = 100


def test_two_users_concurrently_see_only_their_own_results_and_history(
    rt: Runtime,
    admin: Actor,
    make_user,
    pg: PgServer,
    target: Target,  # type: ignore[no-untyped-def]
) -> None:
    alice, bruno = make_user("alice", "analyst"), make_user("bruno", "analyst")
    connections.add(rt, admin, "only-admin", pg.admin_url())  # private: neither may see it
    wrong: list[str] = []

    def work(actor: Actor) -> None:
        for i in range(ROUNDS):
            marker = f"{actor.username}-{i}"
            result = engine.run(rt, actor, target.name, f"SELECT '{marker}' AS who")
            seen = list(result.raise_for_error().results[0].rows)
            if seen != [(marker,)]:
                wrong.append(f"{marker} saw {seen}")

    threads = [threading.Thread(target=work, args=(a,)) for a in (alice, bruno)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert wrong == []
    for me, other in ((alice, bruno), (bruno, alice)):
        history = engine.history(rt, me, limit=500)
        assert len(history) == ROUNDS
        assert all(h.username == me.username for h in history)
        assert not any(other.username in h.sql_text for h in history)
        rows = audit.recent(rt.store, me, limit=1000)
        assert rows and all(r.username == me.username for r in rows)
        assert [c.name for c in connections.list_connections(rt, me)] == [target.name]
