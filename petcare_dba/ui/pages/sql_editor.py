"""SQL editor: write SQL for the chosen connection and run it through the safe engine.

The page only wires the components: the Ace editor box (autocomplete, Ctrl+Enter, drafts), the
explicit-transaction bar for dba users, the running job with its Cancel button, the
confirmation dialog for destructive statements, and the outcome (rows, errors, plans, exports).
Statements run in a worker thread so that Cancel and tab-close cleanup work (reliability Q9,
Q10). Another page can open SQL here through `st.session_state["editor_sql"]`.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state
from petcare_dba.ui.components import editor, editor_ai, editor_results, editor_run, editor_tx

t = state.t
actor = state.require_actor()
st.title(t("editor.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
rt = state.runtime()

editor.init_text(rt, actor, name)
editor_run.collect(rt, actor, name)
editor_run.answer_confirmation(rt, actor, name)
editor_tx.transaction_bar(rt, actor, name)

request = editor.editor_box(rt, actor, name, markers=editor_results.error_markers())
request = st.session_state.pop("ed_request", None) or request
if request is not None:
    editor_run.start(rt, actor, name, request)

job = st.session_state.get("ed_job")
if job is not None:
    editor_run.progress()
else:
    editor_run.confirmation()
    editor_results.outcome()
editor_ai.ai_actions(rt, actor, name)
