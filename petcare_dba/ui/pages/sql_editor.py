"""SQL editor: write SQL for the chosen connection and run it through the safe engine.

The page only wires the components: the tab bar (tabs kept per user), the Ace editor box
(autocomplete, Ctrl+Enter, drafts), the explicit-transaction bar for dba users, the running job
with its Cancel button, the confirmation dialog for destructive statements, and the outcome
(rows with a chart builder, errors, plans drawn as a tree and compared, exports). Statements
run in a worker thread so that Cancel and tab-close cleanup work (reliability Q9, Q10). Another
page can open SQL here through `st.session_state["editor_sql"]` (it opens in a new tab).
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state
from petcare_dba.ui.components.sql import (
    ai_actions,
    chart,
    editor,
    plan,
    results,
    run,
    tabs,
    transaction,
)

t = state.t
actor = state.require_actor()
st.title(t("editor.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
rt = state.runtime()

tabs.tab_bar(rt, actor, name)
editor.init_text(rt, actor, name)
run.collect(rt, actor, name)
run.answer_confirmation(rt, actor, name)
transaction.transaction_bar(rt, actor, name)

request = editor.editor_box(rt, actor, name, markers=results.error_markers())
request = st.session_state.pop("ed_request", None) or request
tabs.autosave(rt, actor, name)
if request is not None:
    run.start(rt, actor, name, request)

job = st.session_state.get("ed_job")
if job is not None:
    run.progress()
else:
    run.confirmation()
    if not plan.show():
        results.outcome()
        chart.chart_builder()
ai_actions.ai_actions(rt, actor, name)
