"""Schedules: scheduled table backups, project script runs and advisor runs; the list, one
schedule's actions and history, and the add form. Widgets are in `ui/components/schedules.py`;
the worker's `schedules` job runs them."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import schedules
from petcare_dba.ui import state
from petcare_dba.ui.components import schedules as widgets
from petcare_dba.ui.components import tabs
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("schedules.title"))
st.caption(t("schedules.caption", poll=rt.settings.schedules_poll_s))
# Only the open tab runs: the list does not pay for the add form's reads, nor the form for the
# list's (a new schedule shows up in the list tab).
at, body = tabs.selected([t("schedules.tab.list"), t("schedules.tab.add")], key="sch_tab")
with body:
    if at == 1:
        try:
            widgets.add_form(t, rt, actor)
        except PetcareError as exc:
            show_error(exc)
        st.stop()
    try:
        found = schedules.list_schedules(rt, actor)
    except PetcareError as exc:
        show_error(exc)
        st.stop()
    if not found:
        st.info(t("schedules.none"))
        st.stop()
    widgets.table(t, found)
    ids = [s.id for s in found]
    choice = st.selectbox(
        t("schedules.pick"),
        ids,
        format_func=lambda i: next(f"#{s.id} · {s.name} · {s.kind}" for s in found if s.id == i),
        key="sch_pick",
    )
    try:
        widgets.actions(t, rt, actor, next(s for s in found if s.id == choice))
    except PetcareError as exc:
        show_error(exc)
