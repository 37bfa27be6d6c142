"""Widgets of the assistant page: messages, tool calls, SQL proposals, what was sent, tokens.

A proposal is shown as code with "Open in editor": the button copies that exact text into the
SQL editor (`st.session_state["editor_sql"]`, plus `editor_proposal` with the message id and
SHA-256 so the editor can link the run to the proposal) and switches page; nothing here runs
SQL. Model text is rendered as Markdown only (never HTML, never executed: AI5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import assistant
from petcare_dba.services.assistant import Proposal, ToolRun, proposals_in
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain, show_answer

EDITOR_PAGE = "pages/sql_editor.py"


def open_in_editor(sql_text: str, message_id: int, sha256: str) -> None:
    """Put the proposal into the editor and go there (the editor runs it, not us)."""
    st.session_state["editor_sql"] = sql_text
    st.session_state["editor_proposal"] = {"message_id": message_id, "sha256": sha256}
    st.switch_page(EDITOR_PAGE)


def ask_about(question: str) -> None:
    """Hand a question to the assistant page (editor: explain, why it failed, optimise...)."""
    st.session_state["assistant_question"] = question
    st.switch_page("pages/assistant.py")


def proposals(items: Sequence[Proposal], message_id: int, t: Callable[..., str]) -> None:
    """Each proposed statement with its classification and an 'Open in editor' button."""
    for i, p in enumerate(items):
        # The SQL itself is already in the answer's code block; name it by its first line.
        first = p.sql.splitlines()[0][:80] if p.sql else ""
        if p.read_only:
            st.caption(f"{t('assistant.proposal_read')} {plain(first)}")
        else:
            st.warning(
                f"{t('assistant.proposal_write')} {plain(first)}", icon=":material/gpp_maybe:"
            )
        if st.button(
            t("assistant.open_in_editor"),
            key=f"open_{message_id}_{i}",
            icon=":material/edit_note:",
        ):
            open_in_editor(p.sql, message_id, p.sha256)


def tool_run(run: ToolRun, t: Callable[..., str]) -> None:
    """One tool call as a collapsed status line (name, arguments, outcome)."""
    icon = ":material/check_circle:" if run.ok else ":material/block:"
    label = f"{t('assistant.tool', name=plain(run.name))} · {plain(run.summary)}"
    with st.expander(label, icon=icon):
        st.json(run.args)


def history(rt: Any, actor: Any, conv_id: int, t: Callable[..., str]) -> None:
    """The stored messages of a conversation (answers through the rendering rule, U3)."""
    allowed = rt.settings.link_allowlist
    for m in assistant.messages(rt, actor, conv_id):
        if m.role == "user":
            with st.chat_message("user"):
                st.markdown(plain(m.content))
                if m.context_sent:
                    sent(m.context_sent, t)
        elif m.role == "tool":
            args = m.tool_args or {}
            run = ToolRun(m.tool_name or "?", args.get("args", {}), bool(args.get("ok")), m.content)
            with st.chat_message("assistant", avatar=":material/build:"):
                tool_run(run, t)
        elif m.role == "assistant":
            with st.chat_message("assistant"):
                show_answer(m.content, allowed)
                proposals(proposals_in(m.content), m.id, t)
                st.caption(t("assistant.usage", tokens_in=m.tokens_in, tokens_out=m.tokens_out))


def sent(payload: dict[str, Any], t: Callable[..., str]) -> None:
    """The expander with exactly what the request carried."""
    with st.expander(t("assistant.sent"), icon=":material/visibility:"):
        st.json(payload, expanded=False)


def live_answer(stream: assistant.AskStream, t: Callable[..., str]) -> assistant.Answer | None:
    """Stream an answer into the chat, tool calls shown as they happen."""
    with st.chat_message("assistant"):
        status = st.status(t("assistant.tools_running"), expanded=False)
        count = 0

        def text() -> Iterator[str]:
            nonlocal count
            for ev in stream:
                if ev.kind == "text":
                    yield ev.text
                elif ev.kind == "tool" and ev.tool is not None:
                    count += 1
                    with status:
                        tool_run(ev.tool, t)
                elif ev.kind == "limit":
                    with status:
                        st.caption(t("assistant.limit"))

        shown = st.empty()
        allowed = str(state.runtime().settings.link_allowlist)
        so_far = ""
        try:
            # Not st.write_stream: it renders the raw Markdown, images included, as it arrives.
            for piece in text():
                so_far += piece
                with shown.container():
                    show_answer(so_far, allowed)
        except PetcareError as exc:
            status.update(state="error")
            show_error(exc)
            return None
        status.update(label=t("assistant.tools_done", count=count), state="complete")
        answer = stream.answer
        if answer is not None:
            proposals(answer.proposals, answer.message_id, t)
            st.caption(
                t("assistant.usage", tokens_in=answer.tokens_in, tokens_out=answer.tokens_out)
            )
        return answer
