"""Drill-down widgets of the Monitoring page: activity (with cancel/terminate), queries, space,
maintenance. Every table is the one result grid (`components.grid`); clicking a session picks it
for cancel/terminate.

Pictures where they beat a table (figures in `charts`): the blocking tree as an icicle beside
the sessions, the top statements over time above their table, space by table as a treemap.

Cancel and terminate follow the house pattern for confirmations: the first click stores the
pending action in session state and shows what will happen; only a second, explicit click runs
it (the service checks the dba role, the `monitoring_allow_kill` setting and audits both steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from petcare_dba.errors import NeedsConfirmation, PetcareError
from petcare_dba.services import monitoring
from petcare_dba.services.actor import Actor
from petcare_dba.services.advisor import indexes
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import count, human_bytes
from petcare_dba.ui.components.monitoring import charts as figures
from petcare_dba.ui.components.monitoring.overview import viewer
from petcare_dba.ui.components.text import plain

PENDING = "mon_pending_signal"
TOP_OVER_TIME = 5  # statements drawn over time (the table lists more)


def activity(t: Callable[..., str], rt: Runtime, actor: Actor, conn: str) -> None:
    """Live sessions as a blocking tree, with cancel/terminate for dbas."""
    try:
        sessions = monitoring.sessions(rt, actor, conn)
    except PetcareError as exc:
        show_error(exc)
        return
    rows = [
        {
            "pid": ("↳ " * s.depth) + str(s.pid),
            t("monitoring.col.user"): s.username,
            t("monitoring.col.state"): s.state,
            t("monitoring.col.wait"): f"{s.wait_event_type or ''} {s.wait_event or ''}".strip(),
            t("monitoring.col.blocked_by"): ", ".join(map(str, s.blocked_by)),
            t("monitoring.col.seconds"): s.query_s,
            t("monitoring.col.app"): s.application_name,
            t("monitoring.col.query"): s.query,
        }
        for s in sessions
    ]
    st.caption(t("monitoring.sessions_caption", n=len(rows)))
    may_signal = actor.at_least("dba") and rt.settings.monitoring_allow_kill and sessions
    pids = [s.pid for s in sessions]

    def pick(position: int) -> None:  # a clicked session is the one cancel/terminate act on
        st.session_state["mon_pid"] = pids[position]

    grid.table(rows, key="mon_sessions", on_pick=pick if may_signal else None)
    _blocking(t, sessions)
    if not may_signal:
        return
    if st.session_state.get("mon_pid") not in pids:
        st.session_state.pop("mon_pid", None)  # a clicked session that has since ended
    cols = st.columns([2, 1, 1])
    pid = cols[0].selectbox(t("monitoring.pid"), pids, key="mon_pid")
    if cols[1].button(t("monitoring.cancel"), key="mon_cancel"):
        st.session_state[PENDING] = {"pid": pid, "terminate": False}
    if cols[2].button(t("monitoring.terminate"), key="mon_terminate", type="primary"):
        st.session_state[PENDING] = {"pid": pid, "terminate": True}
    pending = st.session_state.get(PENDING)
    if pending:
        _confirm(t, rt, actor, conn, pending)


def _blocking(t: Callable[..., str], sessions: list[monitoring.Session]) -> None:
    """The blocking tree as a picture: who holds the lock, who waits behind whom."""
    involved = {b for s in sessions for b in s.blocked_by} | {
        s.pid for s in sessions if s.blocked_by
    }
    here = {s.pid for s in sessions}
    edges = [
        (
            s.pid,
            next((b for b in s.blocked_by if b in here), None),
            f"{s.pid} · {s.username or ''} · {s.state or ''} · {(s.query or '')[:60]}",
        )
        for s in sessions
        if s.pid in involved
    ]
    if not edges:
        st.caption(t("monitoring.no_blocking"))
        return
    language, _ = viewer()
    fig = figures.blocking_figure(t("monitoring.blocking_tree"), edges, language=language)
    st.plotly_chart(fig, width="stretch", key="mon_blocking_tree")


def _confirm(
    t: Callable[..., str], rt: Runtime, actor: Actor, conn: str, pending: dict[str, Any]
) -> None:
    verb = "terminate" if pending["terminate"] else "cancel"
    st.warning(t(f"monitoring.confirm_{verb}", pid=pending["pid"]))
    yes, no = st.columns(2)
    if yes.button(t("monitoring.confirm_yes"), key="mon_confirm_yes", type="primary"):
        st.session_state.pop(PENDING, None)
        try:
            sent = monitoring.signal(
                rt,
                actor,
                conn,
                int(pending["pid"]),
                terminate=pending["terminate"],
                confirmed=True,
            )
        except PetcareError as exc:
            show_error(exc)
            return
        st.success(
            t("monitoring.signal_sent" if sent else "monitoring.signal_failed", pid=pending["pid"])
        )
    if no.button(t("monitoring.confirm_no"), key="mon_confirm_no"):
        st.session_state.pop(PENDING, None)
        st.rerun()


def queries(t: Callable[..., str], rt: Runtime, actor: Actor, conn: str) -> None:
    """Top statements by total time, mean time or calls, with the trend; index suggestions."""
    cols = st.columns(2)
    order = cols[0].selectbox(
        t("monitoring.order"),
        ["total", "mean", "calls"],
        key="mon_order",
        format_func=lambda o: t("monitoring.order." + o),
    )
    hours = cols[1].selectbox(
        t("monitoring.window"),
        [1, 6, 24, 168],
        key="mon_window",
        format_func=lambda h: t("monitoring.hours", h=h),
    )
    try:
        stats = monitoring.top_statements(rt, actor, conn, order=order, hours=hours)
    except PetcareError as exc:
        show_error(exc)
        return
    if not stats:
        st.info(t("monitoring.no_statements"))
    _top_over_time(t, rt, actor, conn, stats[:TOP_OVER_TIME], hours)
    grid.table(
        [
            {
                t("monitoring.col.calls"): s.calls,
                t("monitoring.col.total_ms"): round(s.total_ms, 1),
                t("monitoring.col.mean_ms"): None if s.mean_ms is None else round(s.mean_ms, 2),
                t("monitoring.col.trend"): None if s.trend_pct is None else f"{s.trend_pct:+.0f}%",
                t("monitoring.col.regression"): "!" if s.regression else "",
                t("monitoring.col.query"): s.query,
            }
            for s in stats
        ],
        key="mon_statements",
    )
    # What-if plans of other users' statements are dba-only (U2); the service enforces it too.
    if actor.at_least("dba") and st.button(t("monitoring.suggest_indexes"), key="mon_suggest"):
        try:
            st.session_state["mon_suggestions"] = indexes.suggest(rt, actor, conn)
        except PetcareError as exc:
            show_error(exc)
    for i, sug in enumerate(st.session_state.get("mon_suggestions", [])):
        with st.container(border=True):
            st.markdown(
                t(
                    "monitoring.suggestion",
                    table=plain(sug.table),
                    gain=sug.gain_pct or 0,
                    how=plain(sug.verified_by or "-"),
                )
            )
            st.code(sug.create_sql, language="sql")
            st.caption(plain(sug.note or sug.query[:300]))  # statement text from pg_stat_statements
            if st.button(t("advisor.open_in_editor"), key=f"mon_sug_edit_{i}"):
                st.session_state["editor_sql"] = sug.create_sql
                st.switch_page("pages/sql_editor.py")
            if actor.at_least("dba") and st.button(
                t("monitoring.create_index"), key=f"mon_sug_create_{i}"
            ):
                try:
                    indexes.create(
                        rt,
                        actor,
                        conn,
                        sug.create_sql,
                        confirmed=bool(st.session_state.get("mon_sug_ok")),
                    )
                    st.success(t("monitoring.index_created"))
                except NeedsConfirmation:
                    st.session_state["mon_sug_ok"] = True
                    st.warning(t("monitoring.confirm_index"))
                except PetcareError as exc:
                    show_error(exc)


def _top_over_time(
    t: Callable[..., str],
    rt: Runtime,
    actor: Actor,
    conn: str,
    top: list[monitoring.StatementStat],
    hours: float,
) -> None:
    if not top:
        return
    try:
        series = monitoring.statement_series(rt, actor, conn, [s.queryid for s in top], hours=hours)
    except PetcareError as exc:
        show_error(exc)
        return
    language, tz = viewer()
    fig = figures.statements_figure(
        t("monitoring.top_over_time"),
        {s.query: series.get(s.queryid, []) for s in top},
        language=language,
        tz=tz,
        empty_text=t("monitoring.top_over_time_empty", s=rt.settings.monitoring_interval_s),
    )
    st.plotly_chart(fig, width="stretch", key="mon_top_over_time")


def space(t: Callable[..., str], rt: Runtime, actor: Actor, conn: str) -> None:
    """Largest relations and the database's growth."""
    try:
        info = monitoring.space(rt, actor, conn)
    except PetcareError as exc:
        show_error(exc)
        return
    growth = info["growth_bytes_per_day"]
    language, _ = viewer()
    shown = "-" if growth is None else f"{human_bytes(growth, language)}/d"
    st.metric(t("monitoring.growth"), shown)
    relations = info["relations"]
    fig = figures.treemap_figure(
        t("monitoring.space_by_table"),
        relations,
        [human_bytes(r["total_bytes"], language) for r in relations],
        language=language,
        empty_text=t("monitoring.space_empty"),
    )
    st.plotly_chart(fig, width="stretch", key="mon_space_treemap")
    grid.table(
        [
            {
                t("monitoring.col.relation"): f"{r['schema']}.{r['name']}",
                t("monitoring.col.total"): human_bytes(r["total_bytes"], language),
                t("monitoring.col.table"): human_bytes(r["table_bytes"], language),
                t("monitoring.col.indexes"): human_bytes(r["index_bytes"], language),
                t("monitoring.col.rows"): count(r["estimated_rows"], language),
            }
            for r in relations
        ],
        key="mon_space",
    )


def maintenance(t: Callable[..., str], rt: Runtime, actor: Actor, conn: str) -> None:
    """Vacuum/analyze state, XID age, sequences near their maximum."""
    try:
        info = monitoring.maintenance(rt, actor, conn)
    except PetcareError as exc:
        show_error(exc)
        return
    st.subheader(t("monitoring.tables"))
    grid.table(info["tables"], key="mon_tables")
    st.subheader(t("monitoring.sequences"))
    grid.table(info["sequences"], key="mon_sequences")
