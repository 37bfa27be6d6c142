"""A chart of any SQL editor result: line, bar or scatter, with x, y and colour picked by the user.

`chart_builder` draws under the result grid for the last run's statements that returned
columns. Columns are sorted by their PostgreSQL type (OID), not by guessing from the text:
numbers (int2/4/8, oid, numeric, float4/8), times (date, timestamp, timestamptz) and the rest
as text. Defaults: x is the first time column, else the first text column, else the first
column; y is the first number column that is not x. Values stay exact until the figure: a
bigint or numeric becomes a float only in the plotted series, and the hover shows the exact
text the grid shows (so 9007199254740993 is never displayed as …992).
"""

from __future__ import annotations

import decimal
import hashlib
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from petcare_dba.services.sql import QueryResult, RunResult, values
from petcare_dba.ui import state

t = state.t
KINDS = ("bar", "line", "scatter")
NUMBERS = values.INTEGERS | values.FLOATS | {values.NUMERIC}
TIMES = frozenset({values.DATE, values.TIMESTAMP, values.TIMESTAMPTZ})
NONE = ""  # the "no colour" choice


def kind_of(oid: int) -> str:
    """'number', 'time' or 'text' for a column type OID."""
    if oid in NUMBERS:
        return "number"
    if oid in TIMES:
        return "time"
    return "text"


def _names(result: QueryResult) -> list[str]:
    names: list[str] = []
    for col in result.columns:  # SELECT 1, 1 has two "?column?": keep both apart
        name, n = col, 1
        while name in names:
            n += 1
            name = f"{col}_{n}"
        names.append(name)
    return names


def defaults(result: QueryResult) -> tuple[str | None, str | None]:
    """The x and y a chart starts with: first time (else text, else any) column; first number."""
    names = _names(result)
    kinds = [kind_of(o) for o in (result.column_oids or (0,) * len(names))]
    x = next((n for n, k in zip(names, kinds, strict=True) if k == "time"), None)
    x = x or next((n for n, k in zip(names, kinds, strict=True) if k == "text"), None)
    y = next((n for n, k in zip(names, kinds, strict=True) if k == "number" and n != x), None)
    if x is None and names:
        x = names[0] if names[0] != y or len(names) == 1 else names[1]
    return x, y


def _plotted(value: Any, oid: int) -> Any:
    """A value as the figure needs it: float for numbers, datetime for times, text else."""
    kind = kind_of(oid)
    if value is None:
        return None
    if kind == "number":
        if isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool):
            return float(value)  # only for drawing; the hover keeps the exact text
        try:
            return float(str(value))  # float4/float8 arrive as the server's text
        except ValueError:
            return None
    if kind == "time":
        # timestamptz text carries its offset: read in UTC so that mixed offsets still sort.
        return pd.to_datetime(str(value), errors="coerce", utc=oid == values.TIMESTAMPTZ)
    return values.text(value)


def frame(result: QueryResult) -> pd.DataFrame:
    """The rows as plotted columns, plus an exact-text twin `<name> (exact)` of each number."""
    names = _names(result)
    oids = result.column_oids or (0,) * len(names)
    data: dict[str, list[Any]] = {}
    for i, (name, oid) in enumerate(zip(names, oids, strict=True)):
        column = [row[i] for row in result.rows]
        data[name] = [_plotted(v, oid) for v in column]
        if kind_of(oid) == "number":
            data[f"{name} (exact)"] = [values.text(v) or values.NULL for v in column]
    return pd.DataFrame(data)


def figure(result: QueryResult, kind: str, x: str, y: str, color: str | None) -> Any:
    """The Plotly figure of `result` (kind bar, line or scatter)."""
    df = frame(result)
    draw = {"bar": px.bar, "line": px.line, "scatter": px.scatter}[kind]
    exact = f"{y} (exact)" if f"{y} (exact)" in df.columns else None
    fig = draw(df, x=x, y=y, color=color or None, custom_data=[exact] if exact else None)
    if exact:
        # Column names stay out of the template (it reads %{…} and tags); the axes name them.
        fig.update_traces(hovertemplate="%{x}<br>%{customdata[0]}<extra></extra>")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=380)
    return fig


def _pick(result: RunResult) -> QueryResult | None:
    with_columns = [q for q in result.results if q.columns and q.rows]
    if not with_columns:
        return None
    if len(with_columns) == 1:
        return with_columns[0]
    index = st.selectbox(
        t("editor.chart.statement"),
        range(len(with_columns)),
        format_func=lambda i: t("editor.chart.statement_n", n=with_columns[i].statement_index + 1),
        index=len(with_columns) - 1,
        key="ed_chart_stmt",
    )
    return with_columns[int(index or 0)]


def chart_builder() -> None:
    """Under the last run's grid: pick a chart kind, x, y and colour, then draw it."""
    out = st.session_state.get("ed_outcome") or {}
    result = out.get("result")
    if not isinstance(result, RunResult) or out.get("error") is not None:
        return
    if not any(q.columns and q.rows for q in result.results):
        return
    with st.expander(t("editor.chart.title"), icon=":material/bar_chart:"):
        query = _pick(result)
        if query is None:
            return
        names = _names(query)
        x0, y0 = defaults(query)
        numbers = [
            n
            for n, o in zip(names, query.column_oids or (0,) * len(names), strict=True)
            if kind_of(o) == "number"
        ]
        if not numbers:
            st.info(t("editor.chart.no_numbers"))
            return
        # Keys carry the columns, so a new result with other columns starts from its defaults.
        sig = hashlib.sha256("\x1f".join(names).encode()).hexdigest()[:8]
        cols = st.columns(4)
        kind = cols[0].radio(
            t("editor.chart.kind"),
            KINDS,
            format_func=state.choices("editor.chart.kind_"),
            key=f"ed_chart_kind_{sig}",
            horizontal=True,
        )
        x = cols[1].selectbox(
            t("editor.chart.x"), names, index=names.index(x0) if x0 else 0, key=f"ed_chart_x_{sig}"
        )
        y = cols[2].selectbox(
            t("editor.chart.y"),
            numbers,
            index=numbers.index(y0) if y0 in numbers else 0,
            key=f"ed_chart_y_{sig}",
        )
        color = cols[3].selectbox(
            t("editor.chart.color"),
            [NONE, *names],
            format_func=lambda c: c or t("editor.chart.no_color"),
            key=f"ed_chart_color_{sig}",
        )
        fig = figure(query, str(kind), str(x), str(y), str(color) or None)
        st.plotly_chart(fig, width="stretch", key=f"ed_chart_{sig}")
