"""The per-user connection cap for every feature that opens a target connection (reliability F7).

`max_connections_per_user` bounds the target connections one app user has in use on one stored
connection at a time, whichever feature opens them: SQL engine runs (through its pools), explorer
reads, the index what-if, the assistant's context reads, backups and restores, connection tests.
All of them take a slot from the same `db.target.slots.Slots` counter of the runtime, and wait up
to `pool_timeout_s` before the same "busy" error as the engine. The counter holds across
instances (issue 18): a slot is also a session advisory lock on the metadata store
(`db.shared_slots`), held by the instance's own session, so N instances behind a load balancer
still allow the cap, and a crashed instance's slots are freed when its session ends.
`connections.held` takes a slot and picks the credential (the least-privilege read path where
asked, issue 12 Q3) in one step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from petcare_dba.db.target import Slots
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime


def registry(rt: Runtime) -> Slots:
    """The runtime's one slot counter."""
    return rt.target_slots


@contextmanager
def hold(rt: Runtime, actor: Actor, connection_id: int) -> Iterator[None]:
    """Hold one of the actor's slots on a stored connection while a feature uses it."""
    with registry(rt).hold(
        connection_id,
        actor.user_id,
        max_size=rt.settings.max_connections_per_user,
        wait_timeout=rt.settings.pool_timeout_s,
    ):
        yield
