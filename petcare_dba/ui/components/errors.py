"""The one place errors are rendered: message, hint, and details in an expander, no traceback.

Each rendered error carries a correlation id (`ref …`), and the server log gets one line with
the same id and no traceback (a handled state), so an operator finds what a user quotes.
"""

from __future__ import annotations

import logging

import streamlit as st

from petcare_dba.errors import PetcareError, redact
from petcare_dba.services.observability import logs
from petcare_dba.ui.components.text import plain

_LOG = logging.getLogger("petcare_dba.ui.errors")


def show_error(exc: PetcareError, sql_text: str | None = None, *, ref: str | None = None) -> None:
    """Render a PetcareError for a user; marks the error position in the SQL when known.

    `ref`: the correlation id of an error already logged (with its traceback) by the caller.
    """
    shown_ref = None
    if ref is None:  # the caller's message already names its ref
        ref = shown_ref = logs.new_correlation_id()
        logs.handled(_LOG, ref, exc.title, redact(exc.message))
    st.error(f"**{plain(exc.title)}**: {plain(redact(exc.body()))}", icon=":material/error:")
    if exc.hint:
        st.caption(plain(redact(exc.hint)))
    if shown_ref:
        st.caption(f"ref {plain(shown_ref)}")
    details = {
        k: v
        for k, v in exc.as_dict().items()
        if k in ("sqlstate", "detail", "position") and v not in (None, "")
    }
    if details or (sql_text and exc.position):
        with st.expander("Details"):
            for key, value in details.items():
                st.text(f"{key}: {redact(str(value))}")
            if sql_text and exc.position:
                st.code(mark_position(sql_text, exc.position), language="sql")


def mark_position(sql_text: str, position: int) -> str:
    """The line of `sql_text` holding 1-based `position`, with a caret under it."""
    offset = max(0, min(len(sql_text), position - 1))
    start = sql_text.rfind("\n", 0, offset) + 1
    end = sql_text.find("\n", offset)
    line = sql_text[start : end if end != -1 else len(sql_text)]
    line_no = sql_text.count("\n", 0, offset) + 1
    return f"-- line {line_no}\n{line}\n{' ' * (offset - start)}^"
