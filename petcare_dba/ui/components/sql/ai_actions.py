"""The editor's assistant actions: explain, why it failed, optimise, and write SQL for a request.

Each question goes to the assistant page (where the answer streams and any SQL is only a
proposal); "Write SQL for ..." puts the first proposed statement into the editor, never runs it.
Hidden when the AI provider is disabled.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import assistant
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import prompts
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import explain
from petcare_dba.ui import state
from petcare_dba.ui.components.assistant import ask_about
from petcare_dba.ui.components.errors import show_error

t = state.t


def ai_actions(rt: Runtime, actor: Actor, connection: str) -> None:
    """Buttons that hand the editor's SQL (and last error or plan) to the assistant."""
    if rt.settings.ai_provider == "disabled":
        return
    sql_text = str(st.session_state.get("ed_text", "")).strip()
    last: dict[str, str | None] = st.session_state.get("editor_last_error_detail") or {}
    with st.expander(t("editor.ai.title"), icon=":material/smart_toy:"):
        cols = st.columns(3)
        if cols[0].button(t("editor.ai.explain"), disabled=not sql_text, key="ed_ai_explain"):
            ask_about(prompts.explain_query(sql_text))
        if cols[1].button(t("editor.ai.why"), disabled=not (sql_text and last), key="ed_ai_why"):
            ask_about(prompts.why_failed(sql_text, last["sqlstate"], last["message"] or ""))
        if cols[2].button(t("editor.ai.optimise"), disabled=not sql_text, key="ed_ai_optimise"):
            try:
                plan = explain.explain(rt, actor, connection, sql_text).raw_json
            except PetcareError as exc:
                show_error(exc, sql_text)
            else:
                ask_about(prompts.optimise(sql_text, plan))
        request = st.text_input(t("editor.ai.write_label"), key="ed_ai_request")
        if st.button(t("editor.ai.write"), disabled=not request.strip(), key="ed_ai_write"):
            try:
                proposal = assistant.draft_sql(rt, actor, request, connection=connection)
            except PetcareError as exc:
                show_error(exc)
                return
            if proposal is None:
                st.info(t("editor.ai.no_sql"))
            else:
                st.session_state["editor_sql"] = proposal.sql
                st.rerun()
