"""Advisor: stored lint runs of the chosen connection — new and resolved findings, each with its
doc, remediation SQL ("open in the editor") and exclusion; unavailable lints are listed apart."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import advisor
from petcare_dba.ui import state
from petcare_dba.ui.components import advisor as widgets
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import moment
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("advisor.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
conn_name: str = name
may_run = actor.at_least(advisor.RUN_ROLE)
# First paint shows the stored run (the scheduled advisor job keeps one fresh); the lints run
# against the target only on the Run click, never because the page was opened.
if not may_run:
    st.caption(t("advisor.run_needs"))
elif st.button(t("advisor.run"), key="adv_run", type="primary"):
    try:
        with st.spinner(t("advisor.running")):
            advisor.run_and_store(rt, actor, conn_name)
    except PetcareError as exc:
        show_error(exc)
try:
    shown = advisor.stored(rt, actor, conn_name, limit=10)
except PetcareError as exc:
    show_error(exc)
    st.stop()
runs, findings = shown.runs, shown.findings
if not runs:
    st.info(t("advisor.no_run_yet"))
    st.stop()
latest = runs[0]
lang = state.language()
docs = {lint.name: lint.doc_in(lang) for lint in advisor.lints()}
open_findings = [f for f in findings if f.status != "resolved"]
resolved = [f for f in findings if f.status == "resolved"]
st.caption(
    t(
        "advisor.summary",
        n=len(open_findings),
        lints=len(docs),
        new=int(latest["new_findings"]),
        resolved=len(resolved),
        at=moment(latest["at"], lang, state.timezone()),
    )
)
levels = st.multiselect(
    t("advisor.levels"),
    list(advisor.LEVELS),
    default=["ERROR", "WARN", "INFO"],
    key="adv_levels",
    placeholder=t("common.choose_many"),
)
if not open_findings:
    st.success(t("advisor.clean"))
for i, f in enumerate(open_findings):
    if f.level in levels:
        widgets.finding(t, rt, actor, conn_name, f, docs.get(f.name, ""), i)
if resolved:
    st.subheader(t("advisor.resolved"))
    for f in resolved:
        st.markdown(f":green[:material/check:] {plain(widgets.title(t, f))} · {plain(f.object)}")
for lint_name, error in latest["unavailable"]:
    st.warning(t("advisor.unavailable", name=plain(lint_name), error=plain(error)))
widgets.exclusions(t, rt, actor, conn_name, shown.exclusions)
with st.expander(t("advisor.history")):
    grid.table(
        [
            {k: r[k] for k in ("at", "run_by", "findings", "new_findings", "resolved_findings")}
            for r in runs
        ],
        key="adv_runs",
    )
