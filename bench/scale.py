"""`python -m bench scale [--users N]`: N users on two instances behind HAProxy, one killed.

The system is bench/_topology.py's (two `petcare-dba up` instances, the worker, HAProxy with
deploy/haproxy.cfg, PostgreSQL 15 as the metadata store, Redis as the cache) while `pgbench`
loads the target. Each simulated user (bench/st_client.py, Streamlit's own websocket protocol)
signs in through the load balancer, opens the SQL editor, runs a SELECT carrying its own marker,
starts `pg_sleep` and cancels it, browses a table in the explorer, then starts one more statement;
while those run, the instance that leads the background jobs is SIGKILLed. Its users re-attach
through the load balancer with their cookies (the session lives in PostgreSQL) and must find
their editor draft; everyone then runs the marker SELECT again and browses once more.

Reported: p50/p95/p99 of every page action (send to the run's end) and per action, sessions per
instance, errors (goal 0), cross-user leaks (a user's stream holding another user's marker; goal
0), each instance's RSS over the run (psutil), the re-attach time and drafts kept, the audit
intents left without an outcome after the kill (ended by the reconcile as `unknown`; none may
stay open) and the seconds until every job the dead instance led had a live leader again (goal:
within one lease interval), and pgbench's transactions per second on the target meanwhile.
Users arrive one every `RAMP_S` seconds, as a load tool's spawn rate does (50 at once made the
sign-ins queue for the two cores and measured the queue); each action is tagged with the users
signed in when it ended, which gives `sessions_per_instance_under_2s`: the most signed-in users
per instance at which the p95 of the actions still stayed under 2 s.
Default 50 users; `--quick` (CI) 6.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import _checks as checks
from bench import _topology as topo_mod
from bench.st_client import Run, StClient, StreamClosed

TABLE = "public.pgbench_accounts"
REATTACH_TRIES = 20
RAMP_S = 0.5  # seconds between two users' arrivals
P95_GOAL_S = 2.0


class _Active:
    """How many users are signed in right now (for the capacity figure)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value = 0

    def add(self, delta: int) -> None:
        with self.lock:
            self.value += delta


ACTIVE = _Active()


@dataclass
class User:
    index: int
    marker: str
    instance: str = ""
    timings: list[tuple[str, float]] = field(default_factory=list)
    loads: list[int] = field(default_factory=list)  # users signed in as each timing ended
    errors: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    draft: str = ""
    reattached_s: float | None = None
    draft_kept: bool | None = None
    reattach_retries: int = 0

    def timed(self, name: str, run: Run) -> Run:
        self.timings.append((name, run.seconds))
        self.loads.append(ACTIVE.value)
        self.raw += run.raw
        for message in run.errors():
            if "the statement was cancelled" in message:  # the outcome a Cancel asks for
                continue
            self.errors.append(f"{name}: {message[:200]}")
        return run


def editor_key(c: StClient) -> str:
    for el in c.last.elements.values():
        if (
            el.WhichOneof("type") == "component_instance"
            and "-ed_code_" in el.component_instance.id
        ):
            return el.component_instance.id
    raise KeyError("no SQL editor on the page")


def running(run: Run) -> bool:
    return any(
        el.WhichOneof("type") == "button" and el.button.id.endswith("-ed_cancel")
        for el in run.elements.values()
    )


def submit(u: User, c: StClient, sql: str) -> Run:
    """Type `sql` into the editor and press its Run (the component's submit event)."""
    u.draft = sql
    payload = {"type": "submit", "text": sql, "selected": "", "cursor": {"row": 0, "column": 0}}
    return c.component_event(editor_key(c), payload)


def run_sql(u: User, c: StClient, sql: str) -> Run:
    started = time.perf_counter()
    run = submit(u, c, sql)
    u.raw += run.raw
    run = c.poll(lambda r: not running(r), limit_s=60)
    run.seconds = time.perf_counter() - started
    return u.timed("run_sql", run)


def select(u: User) -> str:
    # Only this user's marker: any other marker in this user's stream is a leak.
    return (
        f"SELECT '{u.marker}' AS marker, count(*) AS accounts, sum(abalance) AS balance "
        f"FROM pgbench_accounts WHERE aid % 50 = {u.index % 50}"
    )


def sign_in(u: User, c: StClient) -> None:
    u.timed("open", c.open())
    u.instance = c.cookies.get("petcare_lb", "?")
    run = c.submit_form(
        {
            "login_username": topo_mod.user_name(u.index),
            "login_password": topo_mod.PASSWORD,
            "login_totp": "",
        }
    )
    u.timed("sign_in", run)
    if "petcare_session" not in c.cookies:
        u.errors.append("sign_in: no session cookie")
    if f"**{topo_mod.user_name(u.index)}**" not in run.texts():
        u.errors.append("sign_in: the page does not show the user: " + run.texts()[:120])


def browse(u: User, c: StClient) -> None:
    u.timed("nav_explorer", c.rerun(page="explorer"))
    run = u.timed("browse_table", c.rerun({"explorer_table": TABLE}))
    if not run.has(b"abalance"):  # the detail's column list
        u.errors.append("browse_table: the table's detail is missing")


def check_result(u: User, run: Run) -> None:
    if not run.has(u.marker.encode()):
        u.errors.append("run_sql: the result lacks the user's marker")


def cancel(u: User, c: StClient) -> None:
    """Start `pg_sleep(30)` in the editor, press Cancel, and expect the cancelled outcome."""
    started = time.perf_counter()
    run = submit(u, c, f"SELECT pg_sleep(30) /* {u.marker} cancel */")
    u.raw += run.raw
    run = c.poll(running, limit_s=30)
    fid = next(iter(c.auto), None)
    run = c.rerun(click="ed_cancel", fragment=fid)
    run = c.poll(lambda r: not running(r), limit_s=30)
    run.seconds = time.perf_counter() - started
    u.timed("cancel", run)
    if "cancel" not in run.texts().lower():
        u.errors.append("cancel: no cancelled outcome shown")


def phase_one(u: User, c: StClient) -> None:
    sign_in(u, c)
    u.timed("nav_editor", c.rerun(page="sql_editor"))
    check_result(u, run_sql(u, c, select(u)))
    cancel(u, c)
    browse(u, c)
    u.timed("nav_editor", c.rerun(page="sql_editor"))


def phase_two(u: User, c: StClient, killed: threading.Event, victim: str) -> None:
    """One statement in flight when the kill lands; the dead instance's users re-attach."""
    sql = f"SELECT '{u.marker}' AS marker, pg_sleep(8) /* in flight */"
    try:
        run = submit(u, c, sql)
        u.raw += run.raw
        run = c.poll(lambda r: not running(r), limit_s=60)
        u.raw += run.raw
        if u.instance == victim:  # the kill may land after a fast statement: wait for it
            killed.wait(60)
            c.rerun()  # the next action finds the stream gone
    except (StreamClosed, TimeoutError):
        if u.instance != victim:
            u.errors.append("phase_two: the surviving instance's stream closed")
    if u.instance != victim:
        return
    killed.wait(60)
    started = time.perf_counter()
    for attempt in range(REATTACH_TRIES):  # the frontend, too, reconnects with a back-off
        try:
            run = c.open()
            break
        except StreamClosed as exc:
            if attempt == REATTACH_TRIES - 1:
                u.errors.append(f"reattach: {exc}")
                return
            u.reattach_retries += 1
            time.sleep(0.5)
    u.reattached_s = time.perf_counter() - started
    u.timed("reattach", run)
    u.instance = c.cookies.get("petcare_lb", "?")
    if f"**{topo_mod.user_name(u.index)}**" not in run.texts():
        u.errors.append("reattach: not signed in through the cookie")
    run = u.timed("nav_editor", c.rerun(page="sql_editor"))
    editor = c.find("component_instance")
    u.draft_kept = (
        editor is not None and u.marker in editor.json_args and "in flight" in editor.json_args
    )
    if not u.draft_kept:
        u.errors.append("reattach: the editor draft was lost")


def phase_three(u: User, c: StClient) -> None:
    check_result(u, run_sql(u, c, select(u)))
    browse(u, c)


def _journey(
    u: User, base: str, barrier: threading.Barrier, killed: threading.Event, victim: str
) -> None:
    c = StClient(base, timeout=90)
    ACTIVE.add(1)
    try:
        try:
            phase_one(u, c)
        finally:
            barrier.wait()
        phase_two(u, c, killed, victim)
        phase_three(u, c)
    except Exception as exc:
        u.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        ACTIVE.add(-1)
        c.close()


def _capacity(people: list[User], instances: int) -> int:
    """Most users per instance at which the p95 of the actions that ended stayed <= 2 s."""
    tagged = sorted(
        (load, s) for u in people for (_, s), load in zip(u.timings, u.loads, strict=True)
    )
    best, seen = 0, []
    for load, seconds in tagged:
        seen.append(seconds)
        if pct(seen, 0.95) <= P95_GOAL_S:
            best = load
    return best // max(1, instances)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def dist(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_s": pct(values, 0.5),
        "p95_s": pct(values, 0.95),
        "p99_s": pct(values, 0.99),
    }


def run(n_users: int) -> dict[str, Any]:
    with topo_mod.topology(n_users) as topo:
        return measure(topo, n_users)


def measure(topo: topo_mod.Topology, n_users: int) -> dict[str, Any]:
    victim = topo.instances[0]
    tag = uuid.uuid4().hex[:6].upper()
    people = [User(i, f"MK{tag}U{i:03d}X") for i in range(n_users)]
    barrier = threading.Barrier(n_users + 1)
    killed = threading.Event()
    load = subprocess.Popen(
        ["pgbench", "-c", "2", "-j", "1", "-T", "3600", "-n", topo.target_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    xact0, started = checks.xacts(topo.target_url), time.monotonic()
    sampler = checks.Sampler(topo.instances)
    sampler.start()
    threads = [
        threading.Thread(target=_journey, args=(u, topo.url, barrier, killed, victim.name))
        for u in people
    ]
    for t in threads:
        t.start()
        time.sleep(RAMP_S)
    barrier.wait()
    sessions = Counter(u.instance for u in people)
    victims = [topo_mod.user_name(u.index) for u in people if u.instance == victim.name]
    in_flight = checks.wait_in_flight(topo.meta_url, victims)
    pid = victim.proc.pid
    killed_at = time.monotonic()
    topo_mod.kill(victim)
    killed.set()
    failover = checks.failover(topo, pid, killed_at, topo.lease_s * 3)
    for t in threads:
        t.join(300)
    wall = time.monotonic() - started
    xacts = checks.xacts(topo.target_url) - xact0
    load.terminate()
    load.wait()
    orphans = checks.orphans(topo.target_url)
    sampler.stop.set()
    sampler.join()
    leaks = 0
    markers = [u.marker.encode() for u in people]
    for u in people:
        blob = b"".join(u.raw)
        leaks += sum(1 for m in markers if m != u.marker.encode() and m in blob)
    timings = [s for u in people for _, s in u.timings]
    by_action: dict[str, list[float]] = {}
    for u in people:
        for name, s in u.timings:
            by_action.setdefault(name, []).append(s)
    moved = [u for u in people if u.reattached_s is not None]
    errors = [e for u in people for e in u.errors]
    return {
        "users": n_users,
        "wall_s": round(wall, 1),
        "actions": dist(timings),
        "by_action": {k: dist(v) for k, v in sorted(by_action.items())},
        "sessions_per_instance": dict(sessions),
        "ramp_s": RAMP_S,
        "sessions_per_instance_under_2s": _capacity(people, len(topo.instances)),
        "p95_goal_s": P95_GOAL_S,
        "errors": len(errors),
        "error_samples": errors[:5],
        "cross_user_leaks": leaks,
        "rss": sampler.report(),
        "killed": victim.name,
        "in_flight_at_kill": in_flight,
        "reattached": len(moved),
        "reattach_p95_s": pct([u.reattached_s or 0.0 for u in moved], 0.95),
        "reattach_retries": sum(u.reattach_retries for u in people),
        "drafts_kept": sum(1 for u in moved if u.draft_kept),
        "orphan_backends": orphans,
        "audit": checks.audit(topo),
        "jobs": {**failover, "lease_s": topo.lease_s},
        "pgbench_tps": round(xacts / wall, 1),
        "median_action_s": round(statistics.median(timings), 3) if timings else None,
    }


def main(quick: bool, users: int | None = None) -> dict[str, Any]:
    return run(users or (6 if quick else 50))
