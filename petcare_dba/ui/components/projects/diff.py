"""Side-by-side diffs of two script versions, drawn as a table whose lines wrap.

Two st.code columns scroll a long line sideways inside boxes of their own, so the change a
reviewer looks for hides past the edge. This table has fixed columns (`table-layout: fixed`,
100 % wide) and wraps every line where it must (`pre-wrap`, `overflow-wrap: anywhere`), so
nothing scrolls horizontally; removed lines are tinted red on the left, added ones green on the
right. Script text is untrusted (any member writes it): every line, number and name is escaped
with `html.escape` before it meets the markup, which comes only from this module; st.html then
passes it through DOMPurify as a second fence.
"""

from __future__ import annotations

import html

import streamlit as st

from petcare_dba.services.projects import versions
from petcare_dba.ui import state

t = state.t
FONT = "font-family:'Source Code Pro',ui-monospace,monospace;font-size:0.85rem;line-height:1.45;"
TABLE = f"width:100%;max-width:100%;table-layout:fixed;border-collapse:collapse;{FONT}"
CELL = (
    "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;vertical-align:top;"
    "padding:0 0.5rem;border:none;"
)
NUMBER = "width:3.2rem;text-align:right;opacity:0.55;user-select:none;" + CELL
HEAD = "text-align:left;font-weight:600;padding:0.2rem 0.5rem;border:none;" + FONT
REMOVED = "background:rgba(255,75,75,0.16);"
ADDED = "background:rgba(33,195,84,0.18);"


def _cell(style: str, value: object) -> str:
    return f'<td style="{style}">{html.escape("" if value is None else str(value))}</td>'


def markup(d: versions.Diff) -> str:
    """The HTML table of `d`: every piece of text escaped."""
    head = "".join(
        f'<th style="{HEAD}" colspan="2">{html.escape(label)}</th>'
        for label in (
            f"v{int(d.old.version)} · {d.old.author}",
            f"v{int(d.new.version)} · {d.new.author}",
        )
    )
    body = []
    for row in d.rows:
        left = CELL + (REMOVED if row.tag in ("delete", "replace") else "")
        right = CELL + (ADDED if row.tag in ("insert", "replace") else "")
        body.append(
            f'<tr data-tag="{html.escape(row.tag)}">'
            + _cell(NUMBER, row.left_no)
            + _cell(left, row.left)
            + _cell(NUMBER, row.right_no)
            + _cell(right, row.right)
            + "</tr>"
        )
    return (
        f'<div class="petcare-diff" style="max-width:100%;overflow-x:hidden;">'
        f'<table style="{TABLE}" aria-label="{html.escape(t("projects.diff_side"))}">'
        '<colgroup><col style="width:3.2rem"><col><col style="width:3.2rem"><col></colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def side_by_side(d: versions.Diff) -> None:
    """Draw the two versions side by side, wrapped."""
    if not d.rows:
        st.caption(t("projects.no_difference"))
        return
    st.html(markup(d))
