"""Query-regression alerts: statements whose mean time rose past a multiple of their own baseline.

The collector already stores per-statement deltas between pg_stat_statements snapshots (the view
is never reset). After each round, `evaluate` sums them per statement (queryid and user of the
connection's database) over two windows: the baseline (`regression_baseline_window_minutes`
before the recent window) and the recent window (`regression_recent_window_minutes`). A statement
regressed when both windows hold at least `regression_min_calls` calls, its recent mean is at
least `regression_ratio` times the baseline mean, and the recent mean is at least
`regression_min_mean_ms` (a 0.01 ms statement turning 0.05 ms is noise). The event freezes the
baseline mean it fired against: while it fires the slow calls flow into the baseline window, and
a moving baseline would resolve the alert by itself. It resolves when the recent window has
enough calls again and their mean is back under `ratio` x the frozen baseline (or under the
minimum). No calls in the recent window: the state stays (nothing new to judge).

The rule is an alert rule of kind `query_regression` ('query-regression', migration 0027): events
go through the same outbox, so silences and maintenance windows apply; one event per statement
(the event's `subject`). When a statement fires, its current plan is taken once: a plain EXPLAIN
(never ANALYZE) of its generic plan through the advisor's guarded what-if path
(`advisor.indexes.generic_plan`: the text is pglast's deparse, PREPAREd with
`plan_cache_mode = force_generic_plan` so `$n` parameters need no values, refused when planning
could run non-PostgreSQL code, READ ONLY, rolled back, under `regression_explain_timeout_s`,
audited). Why not `EXPLAIN (GENERIC_PLAN)` through the SQL engine: the engine sends text over the
extended protocol, where a `$1` with no bound value fails on every version, and GENERIC_PLAN
exists only on 16+; the PREPARE path plans the normalized text on 15 and 16+ alike. When the
text cannot be planned (truncated at 4000 characters, refused, timed out, the table gone) the
alert says "plan unavailable: why". The statement text is outside text: the UI draws it with
`ui.components.text`, channels strip control characters (`alerts.formats.clean`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petcare_dba.db import target
from petcare_dba.errors import PetcareError, Refused
from petcare_dba.services import advisor, connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.alerts import Notification, formats, outbox
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.security import audit
from petcare_dba.services.sql import explain

METRIC = "statement_mean_ms"
MAX_PLANS_PER_ROUND = 5  # EXPLAINs one round may run (a deploy can regress many statements)
PlanFn = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Thresholds:
    """The detection settings, in the units the math uses."""

    baseline_s: float
    recent_s: float
    ratio: float
    min_calls: int
    min_mean_ms: float

    @classmethod
    def from_settings(cls, s: Any) -> Thresholds:
        return cls(
            float(s.regression_baseline_window_minutes) * 60,
            float(s.regression_recent_window_minutes) * 60,
            float(s.regression_ratio),
            int(s.regression_min_calls),
            float(s.regression_min_mean_ms),
        )


@dataclass(frozen=True)
class Window:
    """Calls and total time of one statement over one window (sums of deltas)."""

    calls: int
    total_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls > 0 else 0.0


def regressed(base: Window, recent: Window, t: Thresholds) -> bool:
    """Whether a statement not firing yet regressed (both windows judged, past ratio and floor)."""
    if base.calls < t.min_calls or recent.calls < t.min_calls:
        return False
    return recent.mean_ms >= t.min_mean_ms and recent.mean_ms >= t.ratio * base.mean_ms


def still_regressed(base_mean_ms: float, recent: Window, t: Thresholds) -> bool | None:
    """Whether a firing statement still regresses against its frozen baseline; None: no verdict
    (too few recent calls to judge, so the event keeps its state)."""
    if recent.calls < t.min_calls:
        return None
    return recent.mean_ms >= t.min_mean_ms and recent.mean_ms >= t.ratio * base_mean_ms


@dataclass(frozen=True)
class Regression:
    """One regression event with its figures and plan (the Regressions view, the CLI)."""

    id: int
    connection: str
    state: str
    severity: str
    queryid: int
    userid: int
    query: str
    before_mean_ms: float
    before_calls: int
    after_mean_ms: float
    after_calls: int
    ratio: float | None
    plan: str | None
    plan_note: str
    started_at: datetime
    resolved_at: datetime | None


def one_line(text: object, limit: int = 300) -> str:
    """Outside text (a statement, a plan line) as one line without control characters."""
    return formats.clean(text, limit)


def plan_text(result: explain.ExplainResult) -> str:
    """A plan as indented lines (node, relation, detail, cost), for alerts and the view."""
    lines = []
    for n in result.nodes:
        where = f" on {n.relation}" if n.relation else ""
        detail = f" [{n.detail}]" if n.detail else ""
        lines.append(
            f"{'  ' * n.depth}{n.node_type}{where}{detail} "
            f"(cost {n.startup_cost:.2f}..{n.total_cost:.2f} rows {n.plan_rows:.0f})"
        )
    return "\n".join(lines)


def current_plan(rt: Runtime, actor: Actor, connection: str, query: str) -> dict[str, Any]:
    """The statement's generic plan now ({"plan": text|None, "plan_note": how or why not}).

    Never raises: a refusal or error becomes "plan unavailable: why". Audited like the
    advisor's what-if (intent, then ok/refused/error), as the collector.
    """
    fields: dict[str, Any] = {
        "event_id": audit.new_event_id(),  # pairs the intent with its outcome (A2)
        "target": connection,
        "sql_text": query,
        "classification": "read_only",
    }
    audit.record(rt.store, actor, "monitoring.regression.plan", "intent", **fields)
    try:
        url = connections.resolve_url(rt, actor, connection)
        raw = advisor.indexes.generic_plan(
            url,
            target.application_name(actor.username, "regressions"),
            query,
            int(float(rt.settings.regression_explain_timeout_s) * 1000),
            rt.settings.connect_timeout_s,
        )
        result = explain.parse_plan(raw, statement=query, analyzed=False)
    except PetcareError as exc:
        outcome = "refused" if isinstance(exc, Refused) else "error"
        audit.record(
            rt.store,
            actor,
            "monitoring.regression.plan",
            outcome,
            **fields,
            detail={"reason": formats.clean(exc.message, 300)},
        )
        return {"plan": None, "plan_note": f"plan unavailable: {formats.clean(exc.message, 300)}"}
    audit.record(rt.store, actor, "monitoring.regression.plan", "ok", **fields)
    return {"plan": plan_text(result), "plan_note": "generic plan (EXPLAIN, no ANALYZE)"}


def _figures(base: Window, recent: Window) -> dict[str, Any]:
    return {
        "recent_mean_ms": recent.mean_ms,
        "recent_calls": recent.calls,
        "window_base_mean_ms": base.mean_ms,
        "window_base_calls": base.calls,
    }


def _message(conn: str, queryid: int, d: dict[str, Any]) -> str:
    plan = d.get("plan") or d.get("plan_note") or ""
    first = " > ".join(line.strip() for line in plan.splitlines()[:3])
    return (
        f"[{conn}] statement {queryid} regressed: mean {d['before_mean_ms']:.3g} ms over "
        f"{d['before_calls']} calls -> {d['after_mean_ms']:.3g} ms over {d['after_calls']} calls "
        f"({d['after_mean_ms'] / max(d['before_mean_ms'], 1e-9):.1f}x). "
        f"Statement: {formats.clean(d['query'], 1000)} Plan: {formats.clean(first, 600)}"
    )


def evaluate(
    tx: Any, rt: Runtime, conn_id: int, conn_name: str, plan_fn: PlanFn
) -> list[Notification]:
    """Judge every statement of one connection inside the collector's transaction; the new
    firing/resolved notifications are in the outbox when this returns."""
    rule = tx.one("regression_rule")
    if rule is None:
        return []
    t = Thresholds.from_settings(rt.settings)
    rows = tx.all(
        "regression_windows", {"conn": conn_id, "recent_s": t.recent_s, "base_s": t.baseline_s}
    )
    firing = {
        e["subject"]: e for e in tx.all("regression_firing", {"rule": rule["id"], "conn": conn_id})
    }
    notes: list[Notification] = []
    plans = 0
    for r in rows:
        subject = f"{r['queryid']}:{r['userid']}"
        base = Window(int(r["base_calls"]), float(r["base_ms"]))
        recent = Window(int(r["recent_calls"]), float(r["recent_ms"]))
        event = firing.get(subject)
        if event is not None:
            detail = event["detail"] or {}
            verdict = still_regressed(float(detail.get("before_mean_ms", 0.0)), recent, t)
            params = {
                "id": event["id"],
                "value": recent.mean_ms,
                "figures": json.dumps(_figures(base, recent)),
            }
            if verdict is None or verdict:
                tx.execute("regression_touch", params)
                continue
            row = tx.one("regression_resolve", params)
            if row is not None and not row["flapping"]:
                message = (
                    f"resolved: [{conn_name}] statement {r['queryid']} mean back to "
                    f"{recent.mean_ms:.3g} ms (baseline {detail.get('before_mean_ms', 0):.3g} ms)"
                )
                notes.append(_note("resolved", row, rule, conn_name, recent, t, detail, message))
            continue
        if not regressed(base, recent, t):
            continue
        query = tx.value(
            "regression_statement",
            {"conn": conn_id, "queryid": r["queryid"], "userid": r["userid"]},
        )
        query = str(query or "")
        detail = {
            "queryid": int(r["queryid"]),
            "userid": int(r["userid"]),
            "query": query,
            "before_mean_ms": base.mean_ms,
            "before_calls": base.calls,
            "after_mean_ms": recent.mean_ms,
            "after_calls": recent.calls,
            **_figures(base, recent),
        }
        if plans < MAX_PLANS_PER_ROUND and query:
            detail.update(plan_fn(query))
            plans += 1
        else:
            detail.update({"plan": None, "plan_note": "plan unavailable: not taken this round"})
        message = _message(conn_name, int(r["queryid"]), detail)
        row = tx.one(
            "regression_open",
            {
                "rule": rule["id"],
                "conn": conn_id,
                "subject": subject,
                "detail": json.dumps(detail),
                "severity": rule["severity"],
                "value": recent.mean_ms,
                "message": message,
                "flap_limit": rt.settings.alert_flap_limit,
            },
        )
        if row is not None and not row["flapping"]:
            notes.append(_note("firing", row, rule, conn_name, recent, t, detail, message))
    outbox.enqueue(tx, notes)
    return notes


def _note(
    kind: str,
    row: dict[str, Any],
    rule: dict[str, Any],
    conn_name: str,
    recent: Window,
    t: Thresholds,
    detail: dict[str, Any],
    message: str,
) -> Notification:
    return Notification(
        kind,
        int(row["id"]),
        str(rule["name"]),
        str(rule["severity"]),
        conn_name,
        METRIC,
        recent.mean_ms,
        t.ratio * float(detail.get("before_mean_ms", 0.0)),
        message,
        row["started_at"].isoformat(),
    )


def regressions(
    rt: Runtime, actor: Actor, connection: str, *, firing_only: bool = False, limit: int = 100
) -> list[Regression]:
    """Regression events of a connection the actor can use, firing first, newest first."""
    with rt.store.tx(actor.identity) as tx:
        rows = tx.all(
            "regression_list",
            {"connection": connection, "firing_only": firing_only, "limit": limit},
        )
    out = []
    for r in rows:
        d = r["detail"] or {}
        before, after = float(d.get("before_mean_ms", 0.0)), float(d.get("after_mean_ms", 0.0))
        out.append(
            Regression(
                int(r["id"]),
                str(r["connection"]),
                str(r["state"]),
                str(r["severity"]),
                int(d.get("queryid", 0)),
                int(d.get("userid", 0)),
                str(d.get("query", "")),
                before,
                int(d.get("before_calls", 0)),
                after,
                int(d.get("after_calls", 0)),
                after / before if before > 0 else None,
                d.get("plan"),
                str(d.get("plan_note", "")),
                r["started_at"],
                r["resolved_at"],
            )
        )
    return out
