"""Does a sampled series grow over a soak? Least-squares slope and window medians, no server.

A soak (bench/soak.py) samples each instance's RSS, the metadata-store connections and the audit
lag every few seconds. `trend` drops the warm-up (the first `warmup` share of the run: caches
fill, pools open, the first sessions' imports load), fits a least-squares line to the rest and
compares the median of its first and last windows (medians, so one collection or one slow
statement does not decide). `grows` calls a series growing only when both say so: the fitted
rise over the run and the rise between the window medians exceed the tolerance. A flat series
with noise passes (its medians agree), a single spike passes (the slope barely moves and the
medians ignore it), a steady climb fails. The tolerance is absolute plus relative to the start,
so a series that idles near zero (audit lag, connections) is not judged by percentages alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]  # (seconds since the start, value)


@dataclass(frozen=True)
class Trend:
    """A series after its warm-up: slope per hour, window medians and their growth."""

    samples: int
    slope_per_h: float
    fitted_rise: float  # the fitted line's rise over the span after the warm-up
    start: float  # median of the first window after the warm-up
    end: float  # median of the last window
    growth: float  # end - start
    growth_pct: float  # relative to start (0 when start is 0)
    peak: float

    def as_dict(self) -> dict[str, float]:
        return {
            "samples": self.samples,
            "slope_per_h": round(self.slope_per_h, 3),
            "fitted_rise": round(self.fitted_rise, 3),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "growth": round(self.growth, 3),
            "growth_pct": round(self.growth_pct, 1),
            "peak": round(self.peak, 3),
        }


def slope(points: Sequence[Point]) -> float:
    """Least-squares slope (value per second); 0 for fewer than two distinct times."""
    if len(points) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var


def trend(points: Sequence[Point], warmup: float = 0.2, window: float = 0.15) -> Trend:
    """The series after its warm-up share of the run, with `window`-share medians at each end."""
    if not points:
        return Trend(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ordered = sorted(points)
    t0, t1 = ordered[0][0], ordered[-1][0]
    cut = t0 + (t1 - t0) * warmup
    kept = [p for p in ordered if p[0] >= cut] or ordered[-1:]
    per_s = slope(kept)
    span = kept[-1][0] - kept[0][0]
    size = max(3, round(len(kept) * window))
    start = statistics.median(v for _, v in kept[:size])
    end = statistics.median(v for _, v in kept[-size:])
    growth = end - start
    return Trend(
        samples=len(kept),
        slope_per_h=per_s * 3600,
        fitted_rise=per_s * span,
        start=start,
        end=end,
        growth=growth,
        growth_pct=100 * growth / start if start else 0.0,
        peak=max(v for _, v in kept),
    )


def grows(tr: Trend, abs_tol: float, pct_tol: float = 0.0) -> bool:
    """Growth beyond `abs_tol` plus `pct_tol` % of the start, by the fit and by the medians."""
    allowed = abs_tol + abs(tr.start) * pct_tol / 100
    return tr.fitted_rise > allowed and tr.growth > allowed


@dataclass(frozen=True)
class Rule:
    """How much a series may grow after the warm-up: absolute units plus % of its start."""

    abs_tol: float
    pct_tol: float
    medians_only: bool = False  # RSS: the goal is stated as growth between window medians


# A series is named `kind` or `kind/part` (e.g. `rss_mb/app1`); its kind picks the rule.
RULES = {
    "rss_mb": Rule(0.0, 10.0, medians_only=True),  # T3: no growth in app RSS > 10 %
    "store_connections": Rule(2.0, 0.0),  # a pool may open a spare; a leak keeps opening them
    "audit_open_intents": Rule(2.0, 0.0),
    "audit_oldest_open_s": Rule(5.0, 50.0),  # a statement being cancelled is open a few s
    "audit_outcome_lag_s": Rule(2.0, 50.0),
}


@dataclass(frozen=True)
class Verdict:
    """Each series' trend with its `ok`, and the names of those that grew."""

    failed: list[str]
    series: dict[str, dict[str, object]]

    @property
    def passed(self) -> bool:
        return not self.failed


def verdict(series: Mapping[str, Sequence[Point]], warmup: float = 0.2) -> Verdict:
    """Every series' trend after the warm-up, judged by the rule of its kind (RULES)."""
    out: dict[str, dict[str, object]] = {}
    failed = []
    for name, points in sorted(series.items()):
        rule = RULES[name.split("/", 1)[0]]
        tr = trend(points, warmup)
        if rule.medians_only:
            ok = tr.growth <= rule.abs_tol + abs(tr.start) * rule.pct_tol / 100
        else:
            ok = not grows(tr, rule.abs_tol, rule.pct_tol)
        out[name] = {**tr.as_dict(), "ok": ok}
        if not ok:
            failed.append(name)
    return Verdict(failed, out)
