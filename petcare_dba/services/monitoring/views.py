"""Monitoring views over the collected history and the live target: the DBA's drill-downs.

Overview: one verdict per area (OK / warning / critical with the number behind it) from the
newest samples, and time series at raw or 5-minute resolution depending on the range. Activity:
live sessions, the blocking tree (pg_blocking_pids), and cancel/terminate of a backend — dba
only, behind the `monitoring_allow_kill` setting, with an explicit confirmation, audited.
Queries: top statements by total time, mean time or calls over a window, with the trend against
the previous window and regressions flagged. Space: largest relations and growth. Maintenance:
vacuum/analyze state, transaction-id age and sequences close to their maximum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from petcare_dba.db import target
from petcare_dba.db.target import backend_signal, session
from petcare_dba.errors import NeedsConfirmation, NotFound, PermissionDenied, PetcareError
from petcare_dba.messages import recognised_in, say
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit

# (area, metric, warning at, critical at, higher is worse, unit)
AREAS: tuple[tuple[str, str, float, float, bool, str], ...] = (
    ("connections", "connection_usage_pct", 70, 90, True, "%"),
    ("queries", "longest_query_s", 60, 300, True, "s"),
    ("locks", "longest_lock_wait_s", 10, 60, True, "s"),
    ("cache", "cache_hit_pct", 99, 95, False, "%"),
    ("replication", "replication_lag_bytes", 16 * 2**20, 256 * 2**20, True, "B"),
    ("wraparound", "xid_age_pct", 25, 50, True, "%"),
    ("disk", "db_host_disk_pct", 80, 90, True, "%"),
)


@dataclass(frozen=True)
class Verdict:
    area: str
    level: str  # ok, warning, critical, unknown
    metric: str
    value: float | None
    unit: str


@dataclass(frozen=True)
class Session:
    pid: int
    username: str | None
    application_name: str | None
    client_addr: str | None
    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    backend_type: str | None
    query_s: float | None
    transaction_s: float | None
    blocked_by: tuple[int, ...]
    query: str | None
    depth: int = 0


@dataclass(frozen=True)
class StatementStat:
    queryid: int
    query: str
    calls: int
    total_ms: float
    mean_ms: float | None
    rows: int
    blks_read: int
    trend_pct: float | None
    regression: bool


def connection_id(rt: Runtime, actor: Actor, name: str) -> int:
    """The id of a connection the actor may use (NotFound otherwise)."""
    with rt.store.tx(actor.identity) as tx:
        found = tx.value("mon_connection_id", {"name": name})
    if found is None:
        raise NotFound(say("msg.connections.not_shared", name=repr(name)))
    return int(found)


def latest(rt: Runtime, actor: Actor, conn: str | None) -> dict[str, tuple[dt.datetime, float]]:
    """The newest raw value of every metric (conn None: app-wide metrics)."""
    conn_id = connection_id(rt, actor, conn) if conn else None
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("mon_latest", {"conn": conn_id})
    return {r["metric"]: (r["at"], float(r["value"])) for r in rows}


def judge(metric_value: float | None, warn: float, crit: float, higher_worse: bool) -> str:
    """ok / warning / critical for one value against its thresholds."""
    if metric_value is None:
        return "unknown"
    if higher_worse:
        return "critical" if metric_value >= crit else ("warning" if metric_value >= warn else "ok")
    return "critical" if metric_value < crit else ("warning" if metric_value < warn else "ok")


def verdicts(rt: Runtime, actor: Actor, conn: str) -> list[Verdict]:
    """One verdict per area from the newest samples; 'availability' judges freshness and up."""
    return verdicts_of(latest(rt, actor, conn), float(rt.settings.monitoring_interval_s))


def verdicts_of(values: dict[str, tuple[dt.datetime, float]], interval: float) -> list[Verdict]:
    """The verdicts of `verdicts` from newest values already read (`interval`: sampling, s)."""
    out: list[Verdict] = []
    up = values.get("up")
    if up is None:
        out.append(Verdict("availability", "unknown", "up", None, ""))
    else:
        age = (dt.datetime.now(dt.UTC) - up[0]).total_seconds()
        level = "critical" if up[1] < 1 else ("warning" if age > 3 * interval else "ok")
        out.append(Verdict("availability", level, "sample_age_s", round(age, 1), "s"))
    for area, metric, warn, crit, worse, unit in AREAS:
        value = values.get(metric)
        number = None if value is None else value[1]
        out.append(Verdict(area, judge(number, warn, crit, worse), metric, number, unit))
    return out


def series(
    rt: Runtime,
    actor: Actor,
    conn: str | None,
    metrics: list[str],
    since: dt.datetime,
) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Time series per metric since `since` (5-minute averages beyond the raw retention)."""
    conn_id = connection_id(rt, actor, conn) if conn else None
    raw_hours = rt.settings.monitoring_raw_retention_hours
    old = since < dt.datetime.now(dt.UTC) - dt.timedelta(hours=raw_hours)
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all(
            "mon_series",
            {"conn": conn_id, "metrics": metrics, "resolution": 300 if old else 0, "since": since},
        )
    out: dict[str, list[tuple[dt.datetime, float]]] = {m: [] for m in metrics}
    for r in rows:
        out[r["metric"]].append((r["at"], float(r["value"])))
    return out


@contextmanager
def _target(rt: Runtime, actor: Actor, conn: str) -> Iterator[tuple[str, str, int]]:
    # The connection counts against the user's max_connections_per_user while it is open (F7).
    with connections.held(rt, actor, conn) as url:
        yield (
            url,
            target.application_name(actor.username, actor.session_id),
            rt.settings.connect_timeout_s,
        )


def sessions(rt: Runtime, actor: Actor, conn: str) -> list[Session]:
    """Live sessions of the connection's database, ordered as a blocking tree."""
    with (
        _target(rt, actor, conn) as (url, app, timeout),
        session(url, app, connect_timeout=timeout) as s,
    ):
        rows = s.rows("mon_target_sessions")
    found = [Session(**{**r, "blocked_by": tuple(r["blocked_by"] or ())}) for r in rows]
    return blocking_tree(found)


def blocking_tree(found: list[Session]) -> list[Session]:
    """Blockers first with the sessions they block indented beneath (depth), then the rest."""
    by_pid = {s.pid: s for s in found}
    children: dict[int, list[Session]] = {}
    for s in found:
        for blocker in s.blocked_by:
            children.setdefault(blocker, []).append(s)
    roots = [s for s in found if s.pid in children and not s.blocked_by]
    ordered: list[Session] = []
    seen: set[int] = set()

    def walk(s: Session, depth: int) -> None:
        if s.pid in seen:
            return
        seen.add(s.pid)
        ordered.append(Session(**{**s.__dict__, "depth": depth}))
        for child in children.get(s.pid, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    for s in found:  # blocked by someone outside this database, or not involved at all
        if s.pid not in seen and s.pid in by_pid:
            walk(s, 0)
    return ordered


def signal(
    rt: Runtime, actor: Actor, conn: str, pid: int, *, terminate: bool, confirmed: bool
) -> bool:
    """Cancel (pg_cancel_backend) or terminate (pg_terminate_backend) a backend; dba, audited."""
    action = "monitoring.terminate" if terminate else "monitoring.cancel"
    actor.require("dba", say("msg.access.cancelling_or_terminating_sessions"))
    if not rt.settings.monitoring_allow_kill:
        raise PermissionDenied(say("msg.monitoring.kill_disabled"))
    live = {s.pid: s for s in sessions(rt, actor, conn)}
    if pid not in live:
        raise NotFound(say("msg.monitoring.no_session", pid=str(pid), name=repr(conn)))
    if not confirmed:
        audit.record(rt.store, actor, action, "confirm", target=conn, detail={"pid": pid})
        raise NeedsConfirmation(
            say(
                "msg.monitoring.confirm_terminate"
                if terminate
                else "msg.monitoring.confirm_cancel",
                pid=str(pid),
                user=live[pid].username,
                state=live[pid].state,
            ),
            objects=(str(pid),),
            reason=say(
                "msg.monitoring.terminate_reason" if terminate else "msg.monitoring.cancel_reason"
            ),
        )
    # One event id pairs the intent with its outcome (A2), the failure included.
    event = {"event_id": audit.new_event_id(), "target": conn, "detail": {"pid": pid}}
    audit.record(rt.store, actor, action, "intent", **event)
    try:
        with _target(rt, actor, conn) as (url, app, timeout):
            sent = backend_signal(url, app, pid, terminate, timeout)
    except PetcareError as exc:
        audit.record(rt.store, actor, action, "error", **event, sqlstate=exc.sqlstate)
        raise
    audit.record(rt.store, actor, action, "ok" if sent else "error", **event)
    return sent


def top_statements(
    rt: Runtime,
    actor: Actor,
    conn: str,
    *,
    order: str = "total",
    hours: float = 1.0,
    limit: int = 20,
) -> list[StatementStat]:
    """Top statements over the last `hours` with the trend of their mean time."""
    conn_id = connection_id(rt, actor, conn)
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=hours)
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all(
            "mon_top_statements",
            {
                "conn": conn_id,
                "since": since,
                "prev_since": since - dt.timedelta(hours=hours),
                "order": order,
                "limit": limit,
            },
        )
    out = []
    for r in rows:
        mean, prev = r["mean_ms"], r["prev_mean_ms"]
        trend = 100.0 * (mean - prev) / prev if mean is not None and prev else None
        regression = bool(trend is not None and trend > 50 and int(r["calls"]) >= 5)
        out.append(
            StatementStat(
                int(r["queryid"]),
                r["query"],
                int(r["calls"]),
                float(r["total_ms"]),
                mean,
                int(r["rows"]),
                int(r["blks_read"]),
                trend,
                regression,
            )
        )
    return out


def statement_series(
    rt: Runtime, actor: Actor, conn: str, queryids: list[int], *, hours: float = 1.0
) -> dict[int, list[tuple[dt.datetime, float]]]:
    """Milliseconds each statement spent per sample over the last `hours` (top over time)."""
    conn_id = connection_id(rt, actor, conn)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("mon_statement_series", {"conn": conn_id, "since": since, "ids": queryids})
    out: dict[int, list[tuple[dt.datetime, float]]] = {q: [] for q in queryids}
    for r in rows:
        out[int(r["queryid"])].append((r["at"], float(r["total_ms"])))
    return out


def _read(rt: Runtime, actor: Actor, conn: str, name: str, limit: int) -> list[dict[str, Any]]:
    with (
        _target(rt, actor, conn) as (url, app, timeout),
        session(url, app, connect_timeout=timeout) as s,
    ):
        return s.rows(name, {"limit": limit})


def space(rt: Runtime, actor: Actor, conn: str, *, days: float = 7.0) -> dict[str, Any]:
    """Largest relations and the database's growth per day over the window."""
    history = series(
        rt, actor, conn, ["database_bytes"], dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    )["database_bytes"]
    growth = None
    if len(history) >= 2:
        span = (history[-1][0] - history[0][0]).total_seconds() / 86400
        growth = (history[-1][1] - history[0][1]) / span if span > 0 else None
    return {
        "relations": _read(rt, actor, conn, "mon_target_space", 50),
        "history": history,
        "growth_bytes_per_day": growth,
    }


def maintenance(rt: Runtime, actor: Actor, conn: str) -> dict[str, list[dict[str, Any]]]:
    """Vacuum/analyze state and XID age per table, and sequences by range used."""
    # One session for both reads: a connection's start-up costs more round trips than a read.
    with (
        _target(rt, actor, conn) as (url, app, timeout),
        session(url, app, connect_timeout=timeout) as s,
    ):
        return {
            "tables": s.rows("mon_target_maintenance", {"limit": 100}),
            "sequences": s.rows("mon_target_sequences", {"limit": 50}),
        }


def freshness(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Per connection: when it was last sampled and the last collector error."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all("mon_state_list")
    return [{**r, "last_error": recognised_in(r["last_error"])} for r in rows]
