"""The per-user connection cap for every feature that opens a target connection (reliability F7).

`max_connections_per_user` bounds the target connections one app user has in use on one stored
connection at a time, whichever feature opens them: SQL engine runs (through its pools), explorer
reads, the index what-if, the assistant's context reads, backups and restores, connection tests.
All of them take a slot from the same `db.target_pool.Slots` counter of the runtime, and wait up
to `pool_timeout_s` before the same "busy" error as the engine. The counter is per process;
several instances each count their own (cross-instance counting is a later issue).
`url` also picks the credential: the least-privilege read path for viewers and the assistant
(issue 12, Q3), the main one otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from petcare_dba.db.target_pool import Slots
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime

if TYPE_CHECKING:
    from petcare_dba.services.connections import Target

_KEY = "target.slots"


def registry(rt: Runtime) -> Slots:
    """The runtime's one slot counter (created on first use)."""
    slots = rt._extras.get(_KEY)
    if slots is None:
        slots = rt._extras.setdefault(_KEY, Slots())
    assert isinstance(slots, Slots)  # noqa: S101 - only this module writes the key
    return slots


@contextmanager
def hold(rt: Runtime, actor: Actor, connection_id: int) -> Iterator[None]:
    """Hold one of the actor's slots on a stored connection while a feature uses it."""
    with registry(rt).hold(
        connection_id,
        actor.user_id,
        max_size=int(rt.settings.max_connections_per_user),
        wait_timeout=float(rt.settings.pool_timeout_s),
    ):
        yield


def credential(
    rt: Runtime, actor: Actor, found: Target, *, read_path: bool | None = None, who: str = ""
) -> str:
    """The conninfo a feature reads with: the read path for viewers (or when asked), else the main.

    The read path runs only as a least-privilege role; an over-privileged one is refused with the
    SQL to create a read role (`connections.credential_for`).
    """
    from petcare_dba.services import connections  # connections never imports this module

    if read_path is None:
        read_path = actor.role == "viewer"
    return connections.credential_for(rt, actor, found, read_path=read_path, who=who or "viewers")[
        0
    ]


@contextmanager
def url(
    rt: Runtime,
    actor: Actor,
    connection_name: str,
    *,
    read_path: bool | None = None,
    who: str = "",
) -> Iterator[str]:
    """The conninfo to use while one of the actor's slots on the connection is held.

    `read_path` None: the least-privilege read path for viewers, the main credential for others;
    True: always the read path (the assistant).
    """
    from petcare_dba.services import connections  # connections never imports this module

    found = connections.for_run(rt, actor, connection_name)
    conninfo = credential(rt, actor, found, read_path=read_path, who=who)
    with hold(rt, actor, found.id):
        yield conninfo
