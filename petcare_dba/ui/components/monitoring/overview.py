"""Overview widgets of the dashboard: verdict cards, the time-range picker and Plotly charts.

A verdict card says the state of one area in words (OK / warning / critical) with the number
behind it; charts draw the stored history of a few metrics over the picked range, in the
viewer's time zone and language (figures: `charts.series_figure`). Everything reads services
only (monitoring.verdicts, monitoring.series), never the database directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from petcare_dba.services import monitoring
from petcare_dba.ui import state
from petcare_dba.ui.components.format import count, decimal, human_bytes, moment
from petcare_dba.ui.components.monitoring import charts as figures

RANGES = {"15m": 0.25, "1h": 1.0, "6h": 6.0, "24h": 24.0, "7d": 168.0, "30d": 720.0}
ICONS = {
    "ok": ":green[:material/check_circle:]",
    "warning": ":orange[:material/warning:]",
    "critical": ":red[:material/error:]",
    "unknown": ":gray[:material/help:]",
}
CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tps", ("tps", "rollbacks_per_s")),
    ("sessions", ("sessions_active", "sessions_idle", "sessions_idle_in_transaction")),
    ("cache", ("cache_hit_pct",)),
    ("locks", ("lock_waits", "blocked_sessions", "long_running_queries")),
    ("statements", ("statement_calls_per_s",)),
    ("size", ("database_bytes",)),
)
APP_CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("app_latency", ("app_response_p50_ms", "app_response_p95_ms")),
    ("host", ("host_cpu_pct", "host_mem_pct", "host_disk_pct")),
)
# What each chart's series are (charts.KINDS): whole counts, rates, percentages, bytes, ms.
KIND = {
    "tps": "rate",
    "sessions": "count",
    "cache": "pct",
    "locks": "count",
    "statements": "rate",
    "size": "bytes",
    "app_latency": "ms",
    "host": "pct",
}
# App metrics that are counts (shown as integers, never `1.0`).
COUNTS = {"app_active_users", "app_projects_total"}


def viewer() -> tuple[str, dt.tzinfo]:
    """The session's language and the browser's time zone (the server's when unknown)."""
    return state.language(), state.timezone()


def number(value: float | None, unit: str, language: str | None = None) -> str:
    """A verdict's number with its unit, in the language's symbols (bytes humanised)."""
    if value is None:
        return "-"
    if unit == "B":
        return human_bytes(value, language)
    return f"{decimal(value, language)}{' ' + unit if unit == 's' else unit}"


def range_picker(t: Callable[..., str], key: str = "mon_range") -> dt.datetime:
    """A segmented time-range picker; returns the start of the range (UTC)."""
    choice = st.segmented_control(
        t("dashboard.range"), list(RANGES), default="1h", key=key, label_visibility="collapsed"
    )
    hours = RANGES.get(str(choice or "1h"), 1.0)
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)


def verdict_cards(t: Callable[..., str], verdicts: list[monitoring.Verdict]) -> None:
    """One bordered card per area: icon, area, verdict in words and the number."""
    cols = st.columns(4)
    for i, v in enumerate(verdicts):
        with cols[i % 4].container(border=True):
            st.markdown(f"**{ICONS[v.level]} {t('dashboard.area.' + v.area)}**")
            st.markdown(
                t(
                    "dashboard.verdict",
                    level=t("dashboard.level." + v.level),
                    value=number(v.value, v.unit, state.language()),
                )
            )


def chart(
    t: Callable[..., str], title_key: str, data: dict[str, list[tuple[dt.datetime, float]]]
) -> None:
    """A Plotly line chart of several metrics of one kind (one trace each), or what fills it."""
    language, tz = viewer()
    interval = state.runtime().settings.monitoring_interval_s
    fig = figures.series_figure(
        t("dashboard.chart." + title_key),
        data,
        {m: t("dashboard.metric." + m) for m in data},
        kind=KIND.get(title_key, "rate"),
        language=language,
        tz=tz,
        empty_text=t("dashboard.empty." + title_key, s=interval),
    )
    st.plotly_chart(fig, width="stretch", key=f"chart_{title_key}")


def charts(
    t: Callable[..., str],
    load: Callable[[list[str]], dict[str, list[tuple[dt.datetime, float]]]],
    specs: tuple[tuple[str, tuple[str, ...]], ...],
) -> None:
    """Charts two per row; `load(metrics)` returns their series."""
    for i in range(0, len(specs), 2):
        cols = st.columns(2)
        for col, (title, metrics) in zip(cols, specs[i : i + 2], strict=False):
            with col:
                chart(t, title, load(list(metrics)))


def app_metrics(t: Callable[..., str], latest: dict[str, tuple[dt.datetime, float]]) -> None:
    """The app's own numbers: latency, throughput, errors, users, projects."""
    names = (
        "app_response_p50_ms",
        "app_response_p95_ms",
        "app_throughput_per_s",
        "app_error_rate_pct",
        "app_active_users",
        "app_projects_total",
    )
    cols = st.columns(len(names))
    for col, name in zip(cols, names, strict=True):
        value = latest.get(name)
        shown = None if value is None else value[1]
        language = state.language()
        text = count(shown, language) if name in COUNTS else decimal(shown, language)
        col.metric(t("dashboard.metric." + name), text)
    # Always one slot: a caption that appears between two timed reruns would shift the charts
    # below it, and each would stand beside its stale copy until the rerun ends.
    sampled = st.empty()
    if latest:
        language, tz = viewer()
        newest = max(at for at, _ in latest.values())
        sampled.caption(t("dashboard.sampled_at", at=moment(newest, language, tz)))
