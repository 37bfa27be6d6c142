"""History: your executions (admins: everyone's), searchable, filterable, re-openable.

Filters by SQL text, outcome, connection, user (admins) and date range go to
`engine.history`, which row level security already limits to what the user may see. The rows are
the one result grid; a clicked row (else the newest) shows its statement below, and opens in the
SQL editor through `st.session_state["editor_sql"]`. A run's note (declined, rolled back…) is said
in the user's language; an error kept with it stays as it was stored (English).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from petcare_dba.services import connections
from petcare_dba.services.sql import engine
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said
from petcare_dba.ui.components.format import date_input_format
from petcare_dba.ui.components.text import plain

LIMIT = 500
OUTCOMES = ("ok", "error", "refused", "cancelled", "timeout", "running", "unknown")

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("history.title"))

cols = st.columns([3, 1.2, 1.2, 1.2, 2])
search = cols[0].text_input(t("history.search"), key="hist_search")
outcome = cols[1].selectbox(
    t("history.outcome"),
    [None, *OUTCOMES],
    key="hist_outcome",
    format_func=lambda o: t("history.all") if o is None else t(f"common.outcome.{o}"),
)
names = [c.name for c in connections.list_connections(rt, actor)]
connection = cols[2].selectbox(
    t("history.connection"),
    [None, *names],
    key="hist_connection",
    format_func=lambda o: t("history.all") if o is None else o,
)
username = None
if actor.at_least("admin"):
    username = cols[3].text_input(t("history.user"), key="hist_user").strip() or None
today = dt.date.today()
dates = cols[4].date_input(
    t("history.dates"),
    value=(today - dt.timedelta(days=30), today),
    key="hist_dates",
    format=date_input_format(state.language()),
)
since = until = None
if isinstance(dates, tuple | list) and dates:
    since = dt.datetime.combine(dates[0], dt.time.min).astimezone()
    if len(dates) > 1:
        until = dt.datetime.combine(dates[1] + dt.timedelta(days=1), dt.time.min).astimezone()

entries = engine.history(
    rt,
    actor,
    outcome=outcome,
    connection=connection,
    username=username,
    since=since,
    until=until,
    search=search.strip() or None,
    limit=LIMIT,
)
if not entries:
    st.info(t("history.none"))
    st.stop()
st.caption(t("history.count", n=len(entries), limit=LIMIT))


def _pick(position: int) -> None:
    """A clicked row opens its statement below the grid."""
    st.session_state["hist_pick"] = shown_ids[position]


shown_ids = [e.id for e in entries]
grid.table(
    [
        {
            "id": e.id,
            "started": e.started_at,
            "user": e.username,
            "connection": e.connection,
            "outcome": t(f"common.outcome.{e.outcome}"),
            "class": e.classification,
            "ms": e.duration_ms,
            "rows": e.rows_affected,
            "sqlstate": e.sqlstate,
            "sql": e.sql_text,
            "message": said(e.message) if e.message else e.message,
        }
        for e in entries
    ],
    key="hist_grid",
    on_pick=_pick,
    max_rows=15,
)
by_id = {e.id: e for e in entries}
chosen = by_id.get(st.session_state.get("hist_pick"), entries[0])  # type: ignore[arg-type]
st.markdown(
    f"**#{chosen.id:d} · {plain(t(f'common.outcome.{chosen.outcome}'))} · "
    f"{plain(chosen.connection or '')}**"
    + (f" — {plain(said(chosen.message))}" if chosen.message else "")
)
st.code(chosen.sql_text, language="sql")
if st.button(t("history.open"), key="hist_open", icon=":material/edit:"):
    # The sidebar's connection picker is a widget drawn before this page, so it is not changed.
    st.session_state["editor_sql"] = chosen.sql_text
    st.switch_page("pages/sql_editor.py")
