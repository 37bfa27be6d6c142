"""Schedule widgets: the list, the actions on one schedule, its history and the add form.

The services decide who may do what (a viewer cannot schedule a backup, only the owner or an
admin changes or runs a schedule); these widgets show the refusal as any other error. Text that
users typed (names, errors) is shown through `plain` or in dataframes, never as markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import connections, schedules
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.text import plain

T = Callable[..., str]


def table(t: T, found: list[schedules.Schedule]) -> None:
    """Every visible schedule with its next and latest run."""
    rows = [
        {
            t("schedules.col.id"): s.id,
            t("schedules.col.name"): s.name,
            t("schedules.col.kind"): s.kind,
            t("schedules.col.what"): s.what,
            t("schedules.col.cron"): f"{s.cron} ({s.tz})",
            t("schedules.col.connection"): s.connection,
            t("schedules.col.owner"): s.owner,
            t("schedules.col.next"): None if s.paused else s.next_due_at,
            t("schedules.col.last"): s.last_status or "",
        }
        for s in found
    ]
    grid.table(rows, key="schedules_grid", words=(t("schedules.col.last"),))


def _do(t: T, action: Callable[[], object], done: str) -> None:
    try:
        action()
        st.success(t(done))
    except PetcareError as exc:
        show_error(exc)


def actions(t: T, rt: Runtime, actor: Actor, s: schedules.Schedule) -> None:
    """Run now, pause or resume, remove (the owner or an admin) and the run history."""
    if s.owner == actor.username or actor.at_least("admin"):
        cols = st.columns(3)
        if cols[0].button(t("schedules.run_now"), key=f"sch_run_{s.id}"):
            _do(t, partial(schedules.run_now, rt, actor, s.id), "schedules.ran")
        pause = schedules.resume if s.paused else schedules.pause
        label = "schedules.resume" if s.paused else "schedules.pause"
        if cols[1].button(t(label), key=f"sch_pause_{s.id}"):
            _do(t, partial(pause, rt, actor, s.id), "schedules.changed")
            st.rerun()
        if cols[2].button(t("schedules.remove"), key=f"sch_rm_{s.id}"):
            _do(t, partial(schedules.remove, rt, actor, s.id), "schedules.removed")
            st.rerun()
    st.subheader(t("schedules.history"))
    runs = schedules.history(rt, actor, s.id)
    if not runs:
        st.caption(t("schedules.no_runs"))
        return
    frame = pd.DataFrame(
        {
            t("schedules.col.started"): r.started_at,
            t("schedules.col.trigger"): r.trigger,
            t("schedules.col.missed"): r.missed,
            t("schedules.col.status"): r.status,
            t("schedules.col.error"): said(r.error or ""),
        }
        for r in runs
    )
    grid.table(
        frame, key="schedules_runs", words=(t("schedules.col.trigger"), t("schedules.col.status"))
    )
    with st.expander(t("schedules.latest_result")):
        st.json(runs[0].result or {})


def add_form(t: T, rt: Runtime, actor: Actor) -> None:
    """Add a schedule; the fields follow the kind chosen above the form."""
    names = [c.name for c in connections.list_connections(rt, actor)]
    if not names:
        st.info(t("common.pick_connection"))
        return
    kind = st.selectbox(
        t("schedules.kind"),
        schedules.KINDS,
        key="sch_kind",
        format_func=lambda k: t(f"schedules.kind.{k}"),
    )
    with st.form("schedule_add", clear_on_submit=False):
        left, right = st.columns(2)
        name = left.text_input(t("schedules.col.name"), max_chars=100, key="sch_name")
        connection = right.selectbox(t("schedules.col.connection"), names, key="sch_conn")
        cron_expr = left.text_input(t("schedules.cron"), value="0 3 * * *", key="sch_cron")
        tz = right.text_input(t("schedules.tz"), value="UTC", max_chars=64, key="sch_tz")
        extra: dict[str, Any] = {}
        if kind == "backup":
            extra["schema"] = left.text_input(t("schedules.schema"), "public", key="sch_schema")
            extra["table"] = right.text_input(t("schedules.table"), key="sch_table")
            keep = left.number_input(t("schedules.keep"), 0, 1000, 7, key="sch_keep")
            days = right.number_input(t("schedules.keep_days"), 0, 3650, 0, key="sch_days")
            extra.update(keep_count=int(keep) or None, keep_days=int(days) or None)
        elif kind == "script":
            extra["project"] = left.text_input(t("schedules.project"), key="sch_project")
            extra["script"] = right.text_input(t("schedules.script"), key="sch_script")
            version = left.number_input(t("schedules.version"), 0, 100000, 0, key="sch_ver")
            extra["version"] = int(version) or None
            extra["confirmed"] = right.checkbox(t("schedules.confirm"), key="sch_confirm")
        if st.form_submit_button(t("schedules.add")):
            try:
                schedule_id = schedules.add(
                    rt,
                    actor,
                    name=name,
                    kind=kind,
                    cron_expr=cron_expr,
                    tz=tz,
                    connection=connection,
                    **extra,
                )
                st.success(t("schedules.added", id=schedule_id, name=plain(name)))
            except PetcareError as exc:
                show_error(exc)
