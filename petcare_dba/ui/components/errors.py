"""The one place errors are rendered: message, hint, and details in an expander, no traceback.

Everything is said in the session's language (issue 19): the class's title (`errors.title.*`),
the message and hint when a service made them with `messages.say` (their English otherwise, as
the CLI prints them), the box's own words. Outside text inside a message (a PostgreSQL message,
a user's identifier) stays as it came; the sentence around it is translated. Each rendered error
carries a correlation id (`ref …`), and the server log gets one line with the same id, in
English and with no traceback (a handled state), so an operator finds what a user quotes.
"""

from __future__ import annotations

import logging

import streamlit as st

from petcare_dba.errors import PetcareError, redact, title_key
from petcare_dba.services.observability import logs
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components.text import plain

_LOG = logging.getLogger("petcare_dba.ui.errors")
_FIELDS = ("sqlstate", "detail", "position")


def show_error(exc: PetcareError, sql_text: str | None = None, *, ref: str | None = None) -> None:
    """Render a PetcareError for a user; marks the error position in the SQL when known.

    `ref`: the correlation id of an error already logged (with its traceback) by the caller.
    """
    shown_ref = None
    if ref is None:  # the caller's message already names its ref
        ref = shown_ref = logs.new_correlation_id()
        logs.handled(_LOG, ref, exc.title, redact(exc.message))
    title = title_of(exc)
    st.error(f"**{plain(title)}**: {plain(redact(body(exc, title)))}", icon=":material/error:")
    if exc.hint:
        st.caption(plain(redact(said(exc.hint))))
    if shown_ref:
        st.caption(state.t("errors.ref", ref=plain(shown_ref)))
    details = {k: getattr(exc, k) for k in _FIELDS if getattr(exc, k) not in (None, "")}
    if details or (sql_text and exc.position):
        with st.expander(state.t("errors.details")):
            for key, value in details.items():
                st.text(f"{state.t(f'errors.field.{key}')}: {redact(said(value))}")
            if sql_text and exc.position:
                marker = state.t("errors.line", n="{n}")
                st.code(mark_position(sql_text, exc.position, marker), language="sql")


def said(text: object) -> str:
    """A message (or any text) in the session's language: see `i18n.said`."""
    return i18n.said(state.language(), text)


def title_of(exc: PetcareError) -> str:
    """The error's title in the session's language (a title no class has: as it is)."""
    key = title_key(exc.title)
    return state.t(key) if key else exc.title


def body(exc: PetcareError, title: str) -> str:
    """The message in the language, without repeating the title: many refusals read
    "refused: <rule>" (the CLI and the audit log should say so), which under a "Refused" title
    would read "Refused: refused: …" (`PetcareError.body`, in any language)."""
    text = said(exc.message)
    for lead in {f"{title.lower()}: ", f"{exc.title.lower()}: "}:
        if text.lower().startswith(lead) and len(text) > len(lead):
            return text[len(lead) :]
    return text


def mark_position(sql_text: str, position: int, marker: str = "-- line {n}") -> str:
    """The line of `sql_text` holding 1-based `position`, with a caret under it; `marker` is the
    line's label, `{n}` its number."""
    offset = max(0, min(len(sql_text), position - 1))
    start = sql_text.rfind("\n", 0, offset) + 1
    end = sql_text.find("\n", offset)
    line = sql_text[start : end if end != -1 else len(sql_text)]
    line_no = sql_text.count("\n", 0, offset) + 1
    return f"{marker.format(n=line_no)}\n{line}\n{' ' * (offset - start)}^"
