"""`python -m bench soak [--minutes M] [--reconnect-s S] [--users N]`: low load for a long time.

Reliability T3: the scale benchmark's system (bench/_topology.py: two `petcare-dba up`
instances, the worker, HAProxy, PostgreSQL 15 as the store, Redis) under a low, steady load for
`--minutes` (default 30; operators run 480): a few simulated users (default 5, bench/st_client.py)
sign in once, then at a slow pace run a SELECT carrying a token of their own, browse a table in
the explorer and now and then cancel a `pg_sleep`, while a rate-limited pgbench loads the target.
Every user's websocket is closed and opened again every `--reconnect-s` (default 300; staggered
over the users) with its cookies, as a browser whose connection dropped: it must come back signed
in, to the SQL editor holding its last statement. Every ~10 s a sampler records each instance's
RSS (/proc through psutil), the metadata-store connections each process holds (pg_stat_activity
on the store, matched to the processes by client port), the audit intents still without an
outcome (count and age of the oldest) and the lag from a user pressing Run on a SELECT to its
outcome row in the audit log (the statement plus the deferred writer's delay; for a row not yet
written, how long it has been pending). bench/_trend.py judges the series after the warm-up:
RSS may grow at most 10 % (window medians), connections and audit lag must not keep growing.
Errors (goal 0), cross-user leaks (goal 0) and the audit intents left open once the users stop
(goal 0, without the reconcile) are reported too. `--quick`: 3 users, 3 minutes, a reconnect
every 45 s.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
import psycopg

from bench import _checks as checks
from bench import _topology as topo_mod
from bench import _trend as trend_mod
from bench._engine_env import machine
from bench.scale import User, browse, cancel, check_result, dist, pct, run_sql, sign_in
from bench.st_client import StClient, StreamClosed

USERS = 5
PACE_S = 6.0  # pause between two actions of one user
SAMPLE_S = 10.0
CANCEL_EVERY = 5  # rounds between two cancels of one user
PGBENCH_TPS = 5  # pgbench's rate on the target: a steady background, not a stress
ROUND_MARK_RE = "SK[0-9A-F]{6}U[0-9]{3}XN[0-9]{5}"
OPEN_INTENTS = (
    "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(i.at)), 0)::float8 "
    "FROM petcare.audit_log i WHERE i.outcome = 'intent' AND NOT EXISTS "
    "(SELECT 1 FROM petcare.audit_log o WHERE o.event_id = i.event_id AND o.outcome <> 'intent')"
)
OUTCOMES = (
    f"SELECT substring(i.sql_text FROM '{ROUND_MARK_RE}'), extract(epoch FROM o.at)::float8 "
    "FROM petcare.audit_log i JOIN petcare.audit_log o "
    "ON o.event_id = i.event_id AND o.outcome <> 'intent' "
    "WHERE i.outcome = 'intent' AND i.at > now() - interval '1 hour' AND i.sql_text ~ %s"
)


@dataclass
class Soaker(User):
    """A scale user that stays: its rounds, reconnects and what each reconnect found."""

    rounds: int = 0
    reconnects: int = 0
    reattached: int = 0
    drafts_kept: int = 0
    reattach_s: list[float] = field(default_factory=list)
    leaks: int = 0


class Ledger:
    """Each SELECT a user ran (its mark -> epoch seconds of the Run), until its outcome lands."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.lock = threading.Lock()
        self.pending: dict[str, float] = {}
        self.lags: list[float] = []

    def ran(self, token: str, at: float) -> None:
        with self.lock:
            self.pending[token] = at

    def lag(self, conn: psycopg.Connection[Any]) -> float | None:
        """The worst lag since the last call: outcome rows found now, or still missing.

        None when no SELECT ran since: an idle moment is no sample (a 0 would pull the medians).
        """
        with self.lock:
            if not self.pending:
                return None
            pending = dict(self.pending)
        rows = conn.execute(OUTCOMES, (f"SK{self.tag}U",)).fetchall()
        landed = {tok: at for tok, at in rows if tok in pending}
        now, worst = time.time(), 0.0
        with self.lock:
            for tok, pressed in pending.items():
                if tok in landed:
                    lag = landed[tok] - pressed
                    self.lags.append(lag)
                    self.pending.pop(tok, None)
                else:
                    lag = now - pressed
                worst = max(worst, lag)
        return round(worst, 3)


class Sampler(threading.Thread):
    """Every `every` s: RSS, store connections and audit lag, as (t, value) series."""

    def __init__(self, topo: topo_mod.Topology, ledger: Ledger, every: float) -> None:
        super().__init__(daemon=True)
        self.topo, self.ledger, self.every = topo, ledger, every
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.failures: list[str] = []

    def add(self, name: str, t: float, value: float) -> None:
        self.series.setdefault(name, []).append((round(t, 1), round(value, 3)))

    def run(self) -> None:
        with psycopg.connect(self.topo.meta_url, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                try:
                    self.sample(conn)
                except Exception as exc:  # one missed sample must not end the soak
                    self.failures.append(f"{type(exc).__name__}: {exc}"[:200])

    def sample(self, conn: psycopg.Connection[Any]) -> None:
        t = time.monotonic() - self.started
        owners: dict[int, str] = {}  # client port -> process name
        named = [(i.name, i.pids()) for i in self.topo.instances]
        named += [(f"proc{n}", [p.pid]) for n, p in enumerate(self.topo.procs)]
        for name, pids in named:
            for pid in pids:
                try:
                    for c in psutil.Process(pid).net_connections("tcp"):
                        owners[c.laddr.port] = name
                except psutil.Error:
                    continue
        rows = conn.execute(
            "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND usename <> current_user"
        ).fetchall()
        held = Counter(owners.get(port, "other") for (port,) in rows)
        self.add("store_connections", t, len(rows))
        for inst in self.topo.instances:
            self.add(f"rss_mb/{inst.name}", t, inst.rss_mb())
            self.add(f"store_connections/{inst.name}", t, held[inst.name])
        count, oldest = conn.execute(OPEN_INTENTS).fetchone()  # type: ignore[misc]
        self.add("audit_open_intents", t, count)
        self.add("audit_oldest_open_s", t, oldest)
        lag = self.ledger.lag(conn)
        if lag is not None:
            self.add("audit_outcome_lag_s", t, lag)


def _token_select(u: Soaker, token: str) -> str:
    return (
        f"SELECT '{u.marker}' AS marker, '{token}' AS token, count(*) AS accounts "
        f"FROM pgbench_accounts WHERE aid % 50 = {u.index % 50}"
    )


def _signed_in(u: Soaker, texts: str) -> bool:
    return f"**{topo_mod.user_name(u.index)}**" in texts


def _reconnect(u: Soaker, c: StClient) -> None:
    """Drop the websocket and open it again with the cookies; expect the user and the draft."""
    started = time.perf_counter()
    u.reconnects += 1
    c.close()
    for attempt in range(5):  # the frontend, too, retries with a back-off
        try:
            run = c.open()
            break
        except StreamClosed:
            if attempt == 4:
                raise
            time.sleep(1.0)
    u.timed("reconnect", run)
    if not _signed_in(u, run.texts()):
        u.errors.append("reconnect: not signed in through the cookie")
        sign_in(u, c)
    else:
        u.reattached += 1
        u.reattach_s.append(time.perf_counter() - started)
    u.timed("nav_editor", c.rerun(page="sql_editor"))
    editor = c.find("component_instance")
    if editor is not None and json.dumps(u.draft)[1:-1] in editor.json_args:
        u.drafts_kept += 1
    else:
        u.errors.append("reconnect: the editor draft was lost")


def _round(u: Soaker, c: StClient, ledger: Ledger, pause: Callable[[], None]) -> None:
    u.rounds += 1
    token = f"{u.marker}N{u.rounds:05d}"
    u.timed("nav_editor", c.rerun(page="sql_editor"))
    pressed = time.time()
    run = run_sql(u, c, _token_select(u, token))
    check_result(u, run)
    ledger.ran(token, pressed)
    pause()
    if u.rounds % CANCEL_EVERY == 0:
        cancel(u, c)
        pause()
    browse(u, c)


def _recover(u: Soaker, c: StClient) -> None:
    """After a failed action: open the page again, signing in if the session is gone."""
    try:
        run = c.open()
        if not _signed_in(u, run.texts()):
            sign_in(u, c)
    except Exception as exc:
        u.errors.append(f"recover: {type(exc).__name__}: {exc}"[:300])


@dataclass(frozen=True)
class Plan:
    """What every user of one soak shares."""

    url: str
    until: float  # time.monotonic() at which the users stop
    reconnect_s: float
    pace_s: float
    markers: list[bytes]
    ledger: Ledger


def _journey(u: Soaker, plan: Plan, first_reconnect: float) -> None:
    c = StClient(plan.url, timeout=90)
    until, markers = plan.until, plan.markers

    def pause() -> None:
        jitter = plan.pace_s * random.uniform(0.7, 1.3)
        time.sleep(max(0.0, min(until - time.monotonic(), jitter)))

    try:
        sign_in(u, c)
        next_reconnect = first_reconnect
        while time.monotonic() < until:
            try:
                if time.monotonic() >= next_reconnect:
                    _reconnect(u, c)
                    next_reconnect += plan.reconnect_s
                _round(u, c, plan.ledger, pause)
            except Exception as exc:
                u.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                _recover(u, c)
            blob = b"".join(u.raw)  # any other user's marker here is a leak
            u.leaks += sum(1 for m in markers if m != u.marker.encode() and m in blob)
            u.raw.clear()  # a long run must not keep every message
            pause()
    except Exception as exc:
        u.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        c.close()


def _settle(meta_url: str, limit_s: float) -> int:
    """Open intents once the users stopped, after at most `limit_s` (no reconcile)."""
    deadline = time.monotonic() + limit_s
    while True:
        with psycopg.connect(meta_url, autocommit=True) as conn:
            count = int(conn.execute(OPEN_INTENTS).fetchone()[0])  # type: ignore[index]
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def measure(
    topo: topo_mod.Topology,
    n_users: int,
    seconds: float,
    reconnect_s: float,
    pace_s: float = PACE_S,
    sample_s: float = SAMPLE_S,
) -> dict[str, Any]:
    """Soak `topo` for `seconds` and judge the sampled series (bench/_trend.py)."""
    tag = uuid.uuid4().hex[:6].upper()
    people = [Soaker(i, f"SK{tag}U{i:03d}X") for i in range(n_users)]
    markers = [u.marker.encode() for u in people]
    ledger = Ledger(tag)
    rate = ["-R", str(PGBENCH_TPS), "-T", str(int(seconds) + 600)]
    load = subprocess.Popen(
        ["pgbench", "-c", "1", "-j", "1", *rate, "-n", topo.target_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    xact0, started = checks.xacts(topo.target_url), time.monotonic()
    sampler = Sampler(topo, ledger, sample_s)
    sampler.start()
    plan = Plan(topo.url, started + seconds, reconnect_s, pace_s, markers, ledger)
    threads = [  # the reconnects spread over the period, not all users at once
        threading.Thread(target=_journey, args=(u, plan, started + reconnect_s * (i + 1) / n_users))
        for i, u in enumerate(people)
    ]
    for t in threads:
        t.start()
        time.sleep(min(2.0, pace_s / 2))  # arrivals spread, as a steady load's are
    for t in threads:
        t.join(seconds + 600)
    wall = time.monotonic() - started
    xacts = checks.xacts(topo.target_url) - xact0
    load.terminate()
    load.wait()
    open_after = _settle(topo.meta_url, 30)
    sampler.stop.set()
    sampler.join()
    with psycopg.connect(topo.meta_url, autocommit=True) as conn:
        ledger.lag(conn)  # the stragglers' outcome rows
    timings = [s for u in people for _, s in u.timings]
    by_action: dict[str, list[float]] = {}
    for u in people:
        for name, s in u.timings:
            by_action.setdefault(name, []).append(s)
    errors = [e for u in people for e in u.errors] + [f"sampler: {f}" for f in sampler.failures]
    judged = trend_mod.verdict(sampler.series)
    failed = list(judged.failed)
    if errors:
        failed.append("errors")
    if open_after:
        failed.append("audit_open_after_settle")
    return {
        "users": n_users,
        "minutes": round(seconds / 60, 2),
        "reconnect_s": reconnect_s,
        "pace_s": pace_s,
        "sample_s": sample_s,
        "wall_s": round(wall, 1),
        "rounds": sum(u.rounds for u in people),
        "actions": dist(timings),
        "by_action": {k: dist(v) for k, v in sorted(by_action.items())},
        "errors": len(errors),
        "errors_goal": 0,
        "error_samples": errors[:5],
        "cross_user_leaks": sum(u.leaks for u in people),
        "reconnects": sum(u.reconnects for u in people),
        "reattached": sum(u.reattached for u in people),
        "drafts_kept": sum(u.drafts_kept for u in people),
        "reattach_p95_s": pct([s for u in people for s in u.reattach_s], 0.95),
        "audit": {
            "outcomes_seen": len(ledger.lags),
            "outcomes_missing": len(ledger.pending),
            "outcome_lag_p95_s": pct(ledger.lags, 0.95),
            "outcome_lag_max_s": round(max(ledger.lags, default=0.0), 3),
            "open_after_settle": open_after,
            "open_after_settle_goal": 0,
        },
        "goals": {
            "rss_growth_pct": trend_mod.RULES["rss_mb"].pct_tol,
            "store_connections_growth": trend_mod.RULES["store_connections"].abs_tol,
            "audit_oldest_open_growth_s": trend_mod.RULES["audit_oldest_open_s"].abs_tol,
            "audit_outcome_lag_growth_s": trend_mod.RULES["audit_outcome_lag_s"].abs_tol,
        },
        "trends": judged.series,
        "pass": not failed,
        "failed": failed,
        "series": {k: _thin(v) for k, v in sampler.series.items()},
        "pgbench_tps": round(xacts / wall, 1),
        "machine": machine(),
    }


def _thin(points: list[tuple[float, float]], most: int = 40) -> list[tuple[float, float]]:
    """At most about `most` points of a series for the JSON (the verdict used them all)."""
    step = max(1, -(-len(points) // most))
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def run(n_users: int, minutes: float, reconnect_s: float) -> dict[str, Any]:
    with topo_mod.topology(n_users) as topo:
        return measure(topo, n_users, minutes * 60, reconnect_s)


def main(
    quick: bool,
    users: int | None = None,
    minutes: float | None = None,
    reconnect_s: float | None = None,
) -> dict[str, Any]:
    return run(
        users or (3 if quick else USERS),
        minutes or (3 if quick else 30),
        reconnect_s or (45 if quick else 300),
    )
