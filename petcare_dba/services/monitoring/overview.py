"""The dashboard's first paint in one store round trip, and a glance at the target (issue 19).

`overview()` reads what the dashboard draws first — the newest raw value of every metric of a
connection and of the app, and the series of the charted metrics since a time — in one
statement through `MetaStore.call` (one round trip, row level security as always), where a name
lookup and four reads cost a transaction (four round trips) each before. `glance()` is the
dashboard's header: version, size, tables and latency over one target session on the remembered
connection lookup, without the privilege inspection `connections.check` adds for the test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from petcare_dba.db import target
from petcare_dba.errors import NotFound, PetcareError
from petcare_dba.messages import say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring.views import Verdict, verdicts_of
from petcare_dba.services.runtime import Runtime

Series = dict[str, list[tuple[dt.datetime, float]]]


@dataclass(frozen=True)
class Overview:
    """A connection's verdicts and series, and the app's newest values and series."""

    verdicts: list[Verdict]
    app_latest: dict[str, tuple[dt.datetime, float]]
    series: Series
    app_series: Series


def overview(
    rt: Runtime,
    actor: Actor,
    conn: str,
    metrics: list[str],
    app_metrics: list[str],
    since: dt.datetime,
) -> Overview:
    """What `verdicts`, `latest(None)` and `series` (of `conn` and of the app) return, at once."""
    raw_hours = rt.settings.monitoring_raw_retention_hours
    old = since < dt.datetime.now(dt.UTC) - dt.timedelta(hours=raw_hours)
    rows = rt.store.call(
        actor.identity,
        "mon_overview",
        {
            "name": conn,
            "metrics": metrics,
            "app_metrics": app_metrics,
            "resolution": 300 if old else 0,
            "since": since,
        },
    )
    latest: dict[str, tuple[dt.datetime, float]] = {}
    app_latest: dict[str, tuple[dt.datetime, float]] = {}
    series: Series = {m: [] for m in metrics}
    app_series: Series = {m: [] for m in app_metrics}
    found = False
    for r in rows:  # ordered by part, metric, time
        part, point = r["part"], (r["at"], float(r["value"] or 0.0))
        if part == "found":
            found = True
        elif part == "latest":
            latest[r["metric"]] = point
        elif part == "app_latest":
            app_latest[r["metric"]] = point
        else:
            (series if part == "series" else app_series)[r["metric"]].append(point)
    if not found:
        raise NotFound(say("msg.connections.not_shared", name=repr(conn)))
    interval = float(rt.settings.monitoring_interval_s)
    return Overview(verdicts_of(latest, interval), app_latest, series, app_series)


def glance(rt: Runtime, actor: Actor, conn: str) -> connections.ConnectionCheck:
    """Version, size, table count and latency of `conn`; errors become ok=False."""
    app_name = target.application_name(actor.username, actor.session_id)
    try:
        with connections.held(rt, actor, conn) as url:  # counts against the user's cap (F7)
            found = target.overview(url, app_name, rt.settings.connect_timeout_s)
    except PetcareError as exc:
        return connections.ConnectionCheck(conn, False, error=exc.message)
    return connections.ConnectionCheck(
        conn,
        True,
        found["server_version"],
        found["database"],
        found["login_role"],
        int(found["database_bytes"]),
        int(found["table_count"]),
        int(found["sessions"]),
        found["latency_ms"],
    )
