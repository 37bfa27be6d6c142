"""The metrics collector: samples every stored connection and the app itself, stores history.

Each round, per connection: take `pg_try_advisory_xact_lock(space, connection_id)` on the metadata
store (one leader per connection per round, so several app replicas sample once; the lock dies
with the transaction, which also works behind a transaction pooler), skip if another instance
sampled less than half an interval ago, read the target's counters and gauges in one READ ONLY
transaction, turn counters into rates against the baseline stored in `collector_state` (resets
and restarts re-baseline instead of producing negative deltas), snapshot the top
pg_stat_statements entries and store their deltas (the view is never reset), evaluate alert
rules and query regressions (`regressions`), and commit; notifications go out after the
commit. The app-wide round (own tables, host CPU/memory/disk) runs under its own lock. The
collector acts as the first admin: RLS lets it read every connection and write metrics. It runs
as the `sampling` job (`monitoring.jobs`, in `petcare-dba worker` and `up`) and as
`petcare-dba collect [--once]`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

import psutil

from petcare_dba.db import target
from petcare_dba.db.target import TargetSession, session
from petcare_dba.errors import PetcareError
from petcare_dba.services import advisor, alerts, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.monitoring import deltas as collector_deltas
from petcare_dba.services.monitoring import regressions
from petcare_dba.services.monitoring.samples import insert_samples, system_actor
from petcare_dba.services.runtime import Runtime

log = logging.getLogger(__name__)
LOCK_SPACE = 0x6D6F6E  # "mon": advisory-lock key space of the collector (int4)
APP_KEY = 0  # the app-wide round's lock key (connection ids start at 1)
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"
_LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Round:
    """What one connection's round did."""

    connection: str
    sampled: bool
    skipped: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    statements: int = 0
    reset_groups: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    error: str | None = None


def _read_target(url: str, long_s: int, top: int, connect_timeout: int) -> dict[str, Any]:
    """Every counter and gauge of one target, in one READ ONLY transaction."""
    app_name = target.application_name("collector", "monitoring")
    with session(url, app_name, connect_timeout=connect_timeout) as s:
        raw: dict[str, Any] = dict(s.row("mon_target_database"))
        raw.update(s.row("mon_target_activity", {"long_s": long_s}))
        raw.update(_optional(s, "mon_target_replication"))
        ckpt = (
            "mon_target_checkpointer"
            if raw["server_version_num"] >= 170000
            else "mon_target_bgwriter"
        )
        raw.update(_optional(s, ckpt))
        raw["statements"] = None
        if _optional(s, "mon_target_pgss_path").get("path"):
            reset = _optional(s, "mon_target_pgss_reset")
            rows = _optional_rows(s, "mon_target_statements", {"top": top})
            if rows is not None:
                raw["pgss_reset"] = reset.get("pgss_reset")
                raw["pgss_complete"] = len(rows) < top
                raw["statements"] = rows
        raw["data_directory"] = _optional(s, "mon_target_data_directory").get("data_directory")
    return raw


def _optional(s: TargetSession, name: str) -> dict[str, Any]:
    rows = _optional_rows(s, name)
    return rows[0] if rows else {}


def _optional_rows(
    s: TargetSession, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]] | None:
    """A query that may fail (missing privilege or extension) without spoiling the round."""
    try:
        with s.savepoint():
            return s.rows(name, params)
    except PetcareError:
        return None


def _gauges(raw: dict[str, Any], url: str) -> dict[str, float]:
    names = (
        "database_bytes connections_total max_connections sessions_active sessions_idle "
        "sessions_idle_in_transaction long_running_queries longest_query_s "
        "longest_idle_transaction_s lock_waits blocked_sessions longest_lock_wait_s xid_age "
        "replicas replication_lag_bytes inactive_slots slot_retained_bytes"
    ).split()
    m = {n: float(raw[n]) for n in names if raw.get(n) is not None}
    if raw.get("max_connections"):
        m["connection_usage_pct"] = 100.0 * m.get("connections_total", 0) / m["max_connections"]
    if raw.get("xid_age") is not None:
        m["xid_age_pct"] = 100.0 * float(raw["xid_age"]) / 2_147_483_647
    host = str(target.parse_url(url).get("host", ""))
    directory = raw.get("data_directory")
    if (host in _LOCAL_HOSTS or host.startswith("/")) and directory and os.path.isdir(directory):
        m["db_host_disk_pct"] = psutil.disk_usage(directory).percent
    return m


def _space(rt: Runtime) -> int:
    """The collector's lock space of this deployment (two may share one database, issue 18)."""
    return rt.names.lock_key(LOCK_SPACE, bits=32)


def sample_connection(
    rt: Runtime, actor: Actor, conn_id: int, name: str, *, force: bool = False
) -> Round:
    """One round for one connection (see the module docstring)."""
    s = rt.settings
    interval = float(s.monitoring_interval_s)
    try:
        url = connections.resolve_url(rt, actor, name)
    except PetcareError as exc:
        return Round(name, False, error=exc.message)
    notes: list[alerts.Notification] = []
    with rt.store.tx(actor.identity) as tx:
        if not tx.value("mon_try_lock", {"space": _space(rt), "key": conn_id}):
            return Round(name, False, skipped="another instance is sampling")
        state = tx.one("mon_state_get", {"conn": conn_id}) or {}
        elapsed = (
            (state["now"] - state["sampled_at"]).total_seconds()
            if state.get("sampled_at")
            else None
        )
        if not force and elapsed is not None and elapsed < interval / 2:
            return Round(name, False, skipped="sampled recently")
        try:
            raw = _read_target(
                url,
                s.monitoring_long_query_s,
                s.monitoring_top_statements,
                s.connect_timeout_s,
            )
        except PetcareError as exc:
            tx.execute("mon_state_error", {"conn": conn_id, "error": exc.message, "by": INSTANCE})
            metrics_down = {"up": 0.0}
            insert_samples(tx, conn_id, metrics_down)
            notes = alerts.evaluate(tx, rt, conn_id, metrics_down)
            result = Round(name, False, error=exc.message)
        else:
            result, notes = _store_round(tx, rt, actor, conn_id, name, raw, state, elapsed, url)
    alerts.deliver(rt, notes)
    return result


def _store_round(
    tx: Any,
    rt: Runtime,
    actor: Actor,
    conn_id: int,
    name: str,
    raw: dict[str, Any],
    state: dict[str, Any],
    elapsed: float | None,
    url: str,
) -> tuple[Round, list[alerts.Notification]]:
    interval = float(rt.settings.monitoring_interval_s)
    started = raw["server_started_at"]
    restarted = bool(state.get("server_started_at")) and state["server_started_at"] != started
    new_base = collector_deltas.baseline(raw)
    old_base = state.get("counters") or None
    rates = collector_deltas.rates(
        old_base, new_base, elapsed, restarted=restarted, max_elapsed_s=max(10 * interval, 600)
    )
    metrics = {"up": 1.0, **_gauges(raw, url), **rates.metrics}
    n_deltas = 0
    if raw["statements"] is not None:
        previous = {
            (int(r["queryid"]), int(r["userid"])): r
            for r in tx.all("mon_snapshots_get", {"conn": conn_id})
        }
        old_pgss: dict[str, Any] = (old_base or {}).get("pgss") or {}
        reset_changed = bool(old_pgss) and old_pgss.get("reset") != new_base["pgss"]["reset"]
        deltas = collector_deltas.statement_deltas(
            previous,
            raw["statements"],
            reset_changed=reset_changed or restarted,
            max_age_s=max(3 * interval, 60),
            previous_complete=bool(old_pgss.get("complete")),
        )
        if elapsed and not restarted and elapsed <= max(10 * interval, 600):
            tx.execute("mon_deltas_insert", {"conn": conn_id, "rows": json.dumps(deltas)})
            n_deltas = len(deltas)
            metrics["statement_calls_per_s"] = sum(d["calls"] for d in deltas) / elapsed
        tx.execute("mon_snapshots_put", {"conn": conn_id, "rows": json.dumps(raw["statements"])})
    insert_samples(tx, conn_id, metrics)
    tx.execute(
        "mon_state_put",
        {
            "conn": conn_id,
            "counters": json.dumps(new_base),
            "started": started,
            "statements": raw["statements"] is not None,
            "by": INSTANCE,
        },
    )
    notes = alerts.evaluate(tx, rt, conn_id, metrics)
    if raw["statements"] is not None:
        notes += regressions.evaluate(
            tx, rt, conn_id, name, lambda q: regressions.current_plan(rt, actor, name, q)
        )
    reset = rates.reset_groups + (("restart",) if restarted else ())
    return (
        Round(name, True, None, metrics, n_deltas, reset, tuple(n.rule for n in notes)),
        notes,
    )


def host_metrics(data_dir: str) -> dict[str, float]:
    """CPU, memory and data-disk use of the app host (psutil)."""
    path = data_dir if os.path.isdir(data_dir) else os.path.expanduser("~")
    return {
        "host_cpu_pct": psutil.cpu_percent(interval=None),
        "host_mem_pct": psutil.virtual_memory().percent,
        "host_disk_pct": psutil.disk_usage(path).percent,
    }


def app_round(rt: Runtime, actor: Actor, *, force: bool = False) -> dict[str, float] | None:
    """The app-wide round: own-table metrics, host metrics and the app's alerts."""
    s = rt.settings
    with rt.store.tx(actor.identity) as tx:
        if not tx.value("mon_try_lock", {"space": _space(rt), "key": APP_KEY}):
            return None
        last = tx.value("mon_app_last_sample")
        if not force and last is not None and last < float(s.monitoring_interval_s) / 2:
            return None
        row = tx.one("mon_app_metrics") or {}
        metrics = {k: float(v) for k, v in row.items() if v is not None}
        metrics.update(host_metrics(str(s.data_path)))
        insert_samples(tx, None, metrics)
        notes = alerts.evaluate(tx, rt, None, metrics)
    alerts.deliver(rt, notes)
    return metrics


def collect_once(rt: Runtime, *, force: bool = False) -> list[Round]:
    """One round over every stored connection plus the app-wide round."""
    actor = system_actor(rt)
    with rt.store.tx(actor.identity) as tx:
        conns = tx.all("mon_connections")
    rounds = [sample_connection(rt, actor, int(c["id"]), c["name"], force=force) for c in conns]
    app_round(rt, actor, force=force)
    return rounds


def scheduled_advisor(rt: Runtime, actor: Actor) -> int:
    """Run the advisor on each connection whose scheduled run is due; how many ran."""
    minutes = rt.settings.advisor_interval_minutes
    if minutes <= 0:
        return 0
    with rt.store.tx(actor.identity) as tx:
        conns = tx.all("mon_connections")
    ran = 0
    for c in conns:
        with rt.store.tx(actor.identity) as tx:
            due = tx.value("mon_advisor_due", {"minutes": minutes, "conn": c["id"]})
            if due:
                tx.execute("mon_state_advisor_done", {"conn": c["id"]})
        if due:
            with contextlib.suppress(PetcareError):
                advisor.run_and_store(rt, actor, c["name"])
                ran += 1
    return ran
