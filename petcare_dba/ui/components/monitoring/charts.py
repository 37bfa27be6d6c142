"""Plotly figures that read at a glance: local-time axes, units, integer counts, empty states.

Every figure here is built by a pure function (tested on its layout) and drawn by the caller.
Time axes are dates in the viewer's time zone (`st.context.timezone`), ticked in hours and
minutes, never in milliseconds; byte series are scaled to one binary unit (MiB, GiB…) named in
the tick suffix and the hover; counts tick in whole numbers; numbers use the UI language's
decimal and group symbols. A figure without data draws no axes at all, only a sentence saying
what will fill it. Text from the database (statement text, relation names) is HTML-escaped
before it becomes a trace or label name: Plotly renders a subset of HTML there (U3).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from petcare_dba.ui.components.format import byte_scale, plotly_separators

Points = Sequence[tuple[dt.datetime, float]]
# What each kind of series is, for its axis and hover: counts are whole, bytes are scaled.
KINDS = ("count", "rate", "pct", "bytes", "ms")
HEIGHT = 260


def safe(text: object, limit: int = 60) -> str:
    """Outside text as a Plotly label: one line, cut to `limit`, HTML-escaped."""
    line = " ".join(str(text).split())
    cut = line if len(line) <= limit else line[: limit - 1] + "…"
    return html.escape(cut, quote=True)


def local(points: Points, tz: dt.tzinfo) -> list[dt.datetime]:
    """The points' times in the viewer's zone, without offset (Plotly draws them as given)."""
    return [at.astimezone(tz).replace(tzinfo=None) for at, _ in points]


def time_axis(span: dt.timedelta, language: str) -> dict[str, object]:
    """A date x-axis in local time: seconds within minutes, hours:minutes within a day, the day
    too beyond it (a span's ticks never repeat one label, never show milliseconds)."""
    day_first = language.lower().startswith("pt")
    if span <= dt.timedelta(minutes=10):
        tick = "%H:%M:%S"
    elif span <= dt.timedelta(days=1):
        tick = "%H:%M"
    else:
        tick = "%d/%m %H:%M" if day_first else "%b %d %H:%M"
    hover = "%d/%m/%Y %H:%M:%S" if day_first else "%b %d, %Y %H:%M:%S"
    return {
        "type": "date",
        "tickformat": tick,
        "hoverformat": hover,
        "showgrid": False,
        "nticks": 6,
    }


def value_axis(kind: str, largest: float) -> tuple[dict[str, object], str, float]:
    """The y-axis settings, the hover template and the divisor of one kind of series."""
    if kind == "bytes":
        unit, divisor = byte_scale(largest)
        axis: dict[str, object] = {"ticksuffix": f" {unit}", "tickformat": ",.1~f"}
        return axis, f"%{{y:,.1f}} {unit}", divisor
    if kind == "count":
        axis = {"tickformat": ",d", "rangemode": "tozero"}
        if largest < 5:  # whole steps, never 0.5 sessions
            axis["dtick"] = 1
            axis["range"] = [0, max(1.0, largest) * 1.15]
        return axis, "%{y:,.0f}", 1.0
    if kind == "pct":
        return {"ticksuffix": "%", "tickformat": ",.1~f"}, "%{y:,.1f}%", 1.0  # 99.6%, not 100%
    if kind == "ms":
        return {"ticksuffix": " ms", "tickformat": ",.0f"}, "%{y:,.1f} ms", 1.0
    return {"tickformat": ",.2~f", "rangemode": "tozero"}, "%{y:,.2f}/s", 1.0


def empty(figure: go.Figure, text: str) -> go.Figure:
    """No axes, no grid: only what will fill the chart."""
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.add_annotation(
        text=html.escape(text),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 13},
    )
    return figure


def base(title: str, language: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title=title,
        height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
        separators=plotly_separators(language),
        hovermode="x unified",
    )
    return figure


def series_figure(
    title: str,
    data: Mapping[str, Points],
    names: dict[str, str],
    *,
    kind: str,
    language: str,
    tz: dt.tzinfo,
    empty_text: str,
) -> go.Figure:
    """A line chart of several metrics of one kind (one trace each) over local time."""
    figure = base(title, language)
    filled = {m: p for m, p in data.items() if p}
    if not filled:
        return empty(figure, empty_text)
    largest = max(abs(v) for p in filled.values() for _, v in p)
    y_axis, hover, divisor = value_axis(kind, largest)
    for metric, points in filled.items():
        figure.add_trace(
            go.Scatter(
                x=local(points, tz),
                y=[v / divisor for _, v in points],
                mode="lines",
                name=names.get(metric, metric),
                hovertemplate=hover,
            )
        )
    times = [at for p in filled.values() for at, _ in p]
    figure.update_xaxes(**time_axis(max(times) - min(times), language))
    figure.update_yaxes(**y_axis)
    return figure


def statements_figure(
    title: str,
    series: Mapping[str, Points],
    *,
    language: str,
    tz: dt.tzinfo,
    empty_text: str,
) -> go.Figure:
    """Top statements over time: each one's time spent per sample, stacked (name: its text)."""
    figure = base(title, language)
    filled = {q: p for q, p in series.items() if p}
    if not filled:
        return empty(figure, empty_text)
    for query, points in filled.items():
        figure.add_trace(
            go.Scatter(
                x=local(points, tz),
                y=[v for _, v in points],
                mode="lines",
                stackgroup="top",
                name=safe(query),
                hovertemplate="%{y:,.1f} ms",
            )
        )
    times = [at for p in filled.values() for at, _ in p]
    figure.update_xaxes(**time_axis(max(times) - min(times), language))
    figure.update_yaxes(ticksuffix=" ms", tickformat=",.0f", rangemode="tozero")
    figure.update_layout(height=320, hovermode="closest", showlegend=True)
    return figure


def treemap_figure(
    title: str,
    relations: Sequence[dict[str, object]],
    sizes: Sequence[str],
    *,
    language: str,
    empty_text: str,
) -> go.Figure:
    """Space by table: one rectangle per relation, grouped by schema; `sizes` are the labels
    of each relation's total (already formatted for the locale)."""
    figure = base(title, language)
    if not relations:
        return empty(figure, empty_text)
    schemas = sorted({str(r["schema"]) for r in relations})
    ids = [f"s:{s}" for s in schemas] + [f"r:{r['schema']}.{r['name']}" for r in relations]
    labels = [safe(s) for s in schemas] + [safe(r["name"]) for r in relations]
    parents = [""] * len(schemas) + [f"s:{r['schema']}" for r in relations]
    values = [0.0] * len(schemas) + [float(str(r["total_bytes"])) for r in relations]
    text = [""] * len(schemas) + list(sizes)
    figure.add_trace(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            text=text,
            branchvalues="remainder",
            texttemplate="%{label}<br>%{text}",
            hovertemplate="%{label}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(height=420, margin={"l": 0, "r": 0, "t": 40, "b": 0})
    return figure


def blocking_figure(
    title: str, edges: Sequence[tuple[int, int | None, str]], *, language: str
) -> go.Figure:
    """The blocking tree as an icicle: (pid, blocker pid or None, label) per session involved."""
    figure = base(title, language)
    figure.add_trace(
        go.Icicle(
            ids=[str(pid) for pid, _, _ in edges],
            parents=["" if parent is None else str(parent) for _, parent, _ in edges],
            labels=[safe(label, 80) for _, _, label in edges],
            hovertemplate="%{label}<extra></extra>",
            tiling={"orientation": "h"},
        )
    )
    figure.update_layout(height=min(420, 120 + 40 * len(edges)), margin={"t": 40, "b": 0})
    return figure
