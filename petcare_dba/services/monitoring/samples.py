"""What every monitoring job shares: the identity jobs act as, and how a round's samples are stored.

The collector, the housekeeping jobs and the alert evaluation of app metrics all write samples
the same way and act as the same system identity, so both live below them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import users


def system_actor(rt: Runtime) -> Actor:
    """The identity the collector acts as: the first admin, tagged `collector`."""
    return dataclasses.replace(users.actor_for(rt, None), session_id="collector")


def insert_samples(tx: Any, conn_id: int | None, metrics: dict[str, float]) -> None:
    """Store one round's metrics (a connection's, or the app's when conn_id is None)."""
    names = sorted(metrics)
    tx.execute(
        "mon_samples_insert",
        {"conn": conn_id, "metrics": names, "values": [float(metrics[n]) for n in names]},
    )
