"""Widgets to run a script version on a connection and to read its run history with a chart.

Runs go through `project_runs.run_script` (the SQL engine: classification, confirmation, the
user's role, limits, audit), so a viewer's run is read-only and a destructive script needs the
confirmation box. The history table lists who ran which version where, how long it took, rows and
outcome (in the user's language, `grid.word`); the Plotly chart plots duration over time per
version so a regression stands out.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from petcare_dba.errors import NeedsConfirmation, PetcareError
from petcare_dba.services import connections
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import Project, Script
from petcare_dba.services.projects import runs as project_runs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import RunResult
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain, plain_all

t = state.t
LAST = "projects_last_run"


def run_panel(rt: Runtime, actor: Actor, project: Project, script: Script) -> None:
    """Pick a version and a connection, run, show the results of the last run."""
    names = [c.name for c in connections.list_connections(rt, actor)]
    if not names:
        st.info(t("common.pick_connection"))
        return
    preferred = script.default_connection or state.chosen_connection()
    cols = st.columns([1, 2, 2, 1])
    versions = list(range(script.current_version, 0, -1))
    version = cols[0].selectbox(
        t("projects.run_version"),
        versions,
        key=f"projects_run_version_{script.id}_{script.current_version}",
    )
    conn = cols[1].selectbox(
        t("projects.run_connection"),
        names,
        index=names.index(preferred) if preferred in names else 0,
        key="projects_run_connection",
    )
    confirmed = cols[2].checkbox(t("projects.run_confirm"), key="projects_run_confirm")
    if cols[3].button(t("projects.run"), key="projects_run", type="primary",
                      icon=":material/play_arrow:"):  # fmt: skip
        try:
            run = project_runs.run_script(
                rt,
                actor,
                project.id,
                script.id,
                version=int(version),
                connection=conn,
                confirmed=confirmed,
            )
        except NeedsConfirmation as exc:
            show_error(exc)
            st.caption(t("projects.run_needs_confirm", objects=plain_all(exc.objects)))
        except PetcareError as exc:
            show_error(exc)
        else:
            st.session_state[LAST] = (script.id, run.version.version, run.connection, run.result)
    last = st.session_state.get(LAST)
    if last and last[0] == script.id:
        _show_result(last[1], last[2], last[3])


def _show_result(version: int, connection: str, result: RunResult) -> None:
    st.caption(t("projects.ran", v=version, conn=plain(connection), ms=f"{result.elapsed_ms:.0f}"))
    for query in result.results:
        if query.columns:
            st.dataframe(
                [dict(zip(query.columns, row, strict=False)) for row in query.rows],
                hide_index=True,
                width="stretch",
            )
        st.caption(f"{plain(query.command_tag)} · {query.elapsed_ms:.1f} ms")
    if result.error is not None:
        show_error(result.error)


def history(rt: Runtime, actor: Actor, project: Project, script: Script) -> None:
    """Per-script or per-version run history and the duration-over-time chart."""
    options = [None, *range(script.current_version, 0, -1)]
    only = st.selectbox(
        t("projects.runs_of"),
        options,
        key=f"projects_runs_version_{script.id}_{script.current_version}",
        format_func=lambda v: t("projects.all_versions") if v is None else f"v{v}",
    )
    runs = project_runs.runs(rt, actor, project.id, script.id, version=only)
    if not runs:
        st.caption(t("projects.no_runs"))
        return
    rows = [
        {
            t("projects.col_when"): r.started_at,
            t("projects.col_user"): r.username,
            "v": r.version,
            t("projects.run_connection"): r.connection,
            "#": r.statement_index + 1,
            t("projects.col_outcome"): grid.word(r.outcome),
            "ms": None if r.duration_ms is None else float(r.duration_ms),
            t("projects.col_rows"): r.rows_affected,
            "sqlstate": r.sqlstate,
        }
        for r in runs
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    timed = [r for r in runs if r.duration_ms is not None]
    if timed:
        fig = px.line(
            x=[r.started_at for r in reversed(timed)],
            y=[float(r.duration_ms or 0) for r in reversed(timed)],
            color=[f"v{r.version}" for r in reversed(timed)],
            markers=True,
            labels={"x": t("projects.col_when"), "y": "ms", "color": "version"},
            title=t("projects.chart_title"),
        )
        st.plotly_chart(fig, width="stretch", key="projects_runs_chart")
