"""Assistant: chat about the chosen connection; answers stream, tool calls and context show.

Conversations are listed on the left (new, resume, delete); the chat shows each answer as it
streams, the tools the model used, the SQL it proposes (never run here: "Open in editor") and,
per question, exactly what was sent to the model. Other pages can prefill a question through
`st.session_state["assistant_question"]`; the editor's SQL and last error
(`editor_sql`, `editor_last_error`) go into the context.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import assistant, connections
from petcare_dba.services.assistant import CONSENT_LEVELS
from petcare_dba.services.monitoring import health
from petcare_dba.ui import state
from petcare_dba.ui.components import assistant as chat
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.health import detail
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("assistant.title"))
if rt.settings.ai_provider == "disabled":
    st.info(t("assistant.disabled"))
    st.code(
        "export PETCARE_AI_PROVIDER=gemini\nexport PETCARE_GEMINI_API_KEY=...\npetcare-dba up",
        language="bash",
    )
    st.stop()
component = health.ai(rt)  # the AI part only: the full health check reads the store many times
if not component.ok:
    st.warning(plain(detail(component)))
    st.stop()
if rt.settings.ai_provider == "gemini" and not rt.settings.gemini_paid_tier:
    st.caption(t("assistant.unpaid_tier"))

KEY = "assistant_conversation"
current: int | None = st.session_state.get(KEY)
conn_name = state.chosen_connection()
side, main = st.columns([1, 3], gap="medium")

# The list renders after the chat so a conversation started in this run is listed.
with main:
    if conn_name is None:
        st.caption(t("assistant.no_connection"))
    else:
        conn = connections.get(rt, actor, conn_name)
        st.caption(
            t("assistant.consent", connection=plain(conn_name), consent=plain(conn.ai_consent))
        )
        if actor.at_least("admin"):
            with st.expander(t("assistant.consent_change"), icon=":material/shield_person:"):
                level = st.selectbox(
                    t("assistant.consent_change"),
                    CONSENT_LEVELS,
                    index=CONSENT_LEVELS.index(conn.ai_consent),
                    help=t("assistant.consent_help"),
                    key="assistant_consent",
                    label_visibility="collapsed",
                )
                if level != conn.ai_consent:
                    assistant.set_consent(rt, actor, conn_name, level)
                    st.success(
                        t(
                            "assistant.consent_saved",
                            connection=plain(conn_name),
                            consent=plain(level),
                        )
                    )
    # The chat renders above the input box although the input is read first.
    area = st.container()
    question = st.chat_input(t("assistant.placeholder"), key="assistant_input")
    question = question or st.session_state.pop("assistant_question", None)
    with area:
        if current is not None:
            try:
                chat.history(rt, actor, current, t)
            except PetcareError as exc:
                show_error(exc)
                st.session_state[KEY] = current = None
    if question:
        with area, st.chat_message("user"):
            st.markdown(plain(question))
        try:
            stream = assistant.ask(
                rt,
                actor,
                question,
                connection=conn_name,
                conversation_id=current,
                editor_sql=str(st.session_state.get("editor_sql") or ""),
                last_error=str(st.session_state.get("editor_last_error") or ""),
            )
        except PetcareError as exc:
            show_error(exc)
            st.stop()
        with area:
            chat.sent(stream.sent, t)
            chat.live_answer(stream, t)
        st.session_state[KEY] = current = stream.conv.id
    quota = rt.settings.ai_daily_token_quota
    used = assistant.tokens_today(rt, actor)
    spent = assistant.get_conversation(rt, actor, current).tokens_total if current else 0
    st.caption(
        t("assistant.tokens", conversation=spent, today=used, quota=quota or "∞"),
    )

with side:
    st.subheader(t("assistant.conversations"))
    if st.button(t("assistant.new"), icon=":material/add_comment:", width="stretch"):
        st.session_state[KEY] = None
        st.rerun()
    convs = assistant.list_conversations(rt, actor)
    if not convs:
        st.caption(t("assistant.none_yet"))
    for conv in convs:
        chosen = conv.id == current
        if st.button(
            plain(conv.title) if conv.title else f"#{int(conv.id)}",
            key=f"conv_{conv.id}",
            type="primary" if chosen else "secondary",
            width="stretch",
        ):
            st.session_state[KEY] = current = conv.id
            st.rerun()
    if current is not None and st.button(
        t("assistant.delete"), icon=":material/delete:", width="stretch"
    ):
        try:
            assistant.delete_conversation(rt, actor, current)
        except PetcareError as exc:
            show_error(exc)
        st.session_state[KEY] = current = None
        st.rerun()
