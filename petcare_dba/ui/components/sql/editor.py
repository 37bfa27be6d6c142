"""The SQL editor box: Ace (streamlit-code-editor) with SQL highlighting, autocomplete and runs.

`editor_box` renders the code editor for the chosen connection with completions of its schemas,
tables and columns, keeps the text in `st.session_state["ed_text"]`, autosaves it as the user's
draft for that connection, and turns Ctrl+Enter (selection, else the statement under the cursor)
and the toolbar buttons into a `Request`. `init_text` decides what the editor starts with: SQL
another page handed over in `st.session_state["editor_sql"]` (consumed once), else the saved
draft. Why this component: docs/editor.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from code_editor import code_editor

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.explorer import completions
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine, export
from petcare_dba.ui import state

t = state.t
HANDOFF = "editor_sql"  # other pages put SQL here for the editor to open


@dataclass(frozen=True)
class Request:
    """What the user asked for: run, explain, analyze or export `sql`."""

    kind: str
    sql: str
    confirmed: bool = False
    max_rows: int | None = None
    fmt: str = "csv"


def init_text(rt: Runtime, actor: Actor, connection: str) -> None:
    """Seed the editor from a handoff (once) or the draft of (user, connection)."""
    ss = st.session_state
    handed = ss.pop(HANDOFF, None)
    if isinstance(handed, str) and handed.strip():
        seed(handed)
        ss["ed_loaded_for"] = connection
        save_draft(rt, actor, connection)
        return
    if ss.get("ed_loaded_for") == connection:
        return
    ss["ed_loaded_for"] = connection
    try:
        draft = engine.load_draft(rt, actor, connection)
    except PetcareError:
        draft = None
    seed(draft.content if draft else "")
    ss["ed_saved"] = ss["ed_text"]


def seed(text: str) -> None:
    """Put `text` in the editor (a new seed remounts the Ace box with it)."""
    ss = st.session_state
    ss["ed_text"] = text
    # A new seed resets the Ace editor's content (allow_reset); the counter makes the same
    # text handed over twice still count as a change.
    ss["ed_seed_n"] = ss.get("ed_seed_n", 0) + 1
    ss["ed_seed"] = text


def save_draft(rt: Runtime, actor: Actor, connection: str) -> None:
    """Autosave the editor text when it changed since the last save."""
    ss = st.session_state
    text = ss.get("ed_text", "")
    if ss.get("ed_saved") == text:
        return
    try:
        engine.save_draft(rt, actor, connection, text)
        ss["ed_saved"] = text
    except PetcareError:
        pass  # autosave retries on the next change; running never depends on it


def statement_at(text: str, row: int, column: int) -> str:
    """The statement under the cursor (row/column 0-based, as Ace reports them)."""
    lines = text.split("\n")
    offset = sum(len(line) + 1 for line in lines[:row]) + column
    found = engine.classify(text)
    if not found or found[0].parse_error is not None:
        return text
    best = found[-1]
    for c in found:
        if offset <= c.end:
            best = c
            break
    return best.text


def _completions(rt: Runtime, actor: Actor, connection: str) -> list[dict[str, object]]:
    # Per session (not st.cache_data): what a user may see of a catalog depends on the user.
    cache = st.session_state.setdefault("ed_completions", {})
    if connection not in cache:
        try:
            cache[connection] = [c.as_ace() for c in completions.completions(rt, actor, connection)]
        except PetcareError:
            cache[connection] = []
    return list(cache[connection])


# Ctrl+Enter, made reliable (issue 19: "a first Ctrl+Enter was lost once"). The component's own
# `submit` command is bound to Ctrl+Enter and sends {type: "submit"} at once, but with
# response_mode="debounce" the Ace box also sends the text 250 ms after the last key, and
# Streamlit keeps only a component's newest value: a Ctrl+Enter pressed within 250 ms of typing
# was overwritten by that trailing "change" before the script read it. So the built-in binding
# moves to an unused chord, and Ctrl+Enter (and the Run button) run `submit` after the debounce
# has fired, through the component's own `delayedExecute` command. The script side keeps a
# submit it has read in session state until the run starts (`ed_request`), so a rerun that
# interrupts the page in between no longer drops it either.
SUBMIT_DELAY_MS = 400
KEYBINDINGS = {
    "commands": [
        {"name": "submit", "bindkey": {"win": "Ctrl-Alt-Shift-F12", "mac": "Command-Alt-Shift-F12"}}
    ]
}
RUN_KEYS = {"win": "Ctrl-Enter", "mac": "Command-Enter"}


def _buttons() -> list[dict[str, object]]:
    return [
        {
            "name": t("editor.run_selection"),
            "feather": "Play",
            "primary": True,
            "hasText": True,
            "alwaysOn": True,
            "showWithIcon": True,
            "bindKey": RUN_KEYS,
            "commands": [["delayedExecute", {"command": "submit", "timeout": SUBMIT_DELAY_MS}]],
            "style": {"bottom": "0.44rem", "right": "0.4rem"},
        }
    ]


def editor_box(
    rt: Runtime, actor: Actor, connection: str, markers: list[dict[str, object]] | None = None
) -> Request | None:
    """Render the editor and the toolbar; return what the user asked for, if anything."""
    ss = st.session_state
    response = code_editor(
        ss.get("ed_seed", ""),
        lang="pgsql",
        height=[12, 30],
        allow_reset=True,
        response_mode="debounce",
        completions=_completions(rt, actor, connection),
        buttons=_buttons(),
        keybindings=KEYBINDINGS,
        props={"annotations": markers or [], "placeholder": t("editor.placeholder")},
        options={"wrap": True, "showLineNumbers": True},
        key=f"ed_code_{connection}_{ss.get('ed_seed_n', 0)}",
    )
    request = None
    if response and response.get("id") and response["id"] != ss.get("ed_last_event"):
        ss["ed_last_event"] = response["id"]
        ss["ed_text"] = str(response.get("text", ""))
        save_draft(rt, actor, connection)
        if response.get("type") == "submit":
            text = ss["ed_text"]
            selected = str(response.get("selected") or "")
            cursor = response.get("cursor") or {}
            sql = (
                selected
                if selected.strip()
                else statement_at(text, int(cursor.get("row", 0)), int(cursor.get("column", 0)))
            )
            request = Request("run", sql)
            if sql.strip():
                ss["ed_request"] = request  # kept until the page starts it (see KEYBINDINGS)
    st.caption(t("editor.shortcuts"))
    # A row that sizes each control to its label and wraps, not fixed-ratio columns: the pt-BR
    # labels ("Explicar com ANALYZE", "Executar script") were cut to "Explicar com A…" at 1280 px.
    row = st.container(horizontal=True, vertical_alignment="center")
    text = ss.get("ed_text", "")
    if row.button(t("editor.run"), key="ed_run", type="primary", icon=":material/play_arrow:"):
        request = Request("run", text)
    if row.button(t("editor.explain"), key="ed_explain"):
        request = Request("explain", text)
    if row.button(t("editor.analyze"), key="ed_analyze"):
        request = Request("analyze", text)
    with row.popover(t("editor.export"), icon=":material/download:"):
        # Exact CSV (PostgreSQL's own values) beside the spreadsheet-safe one, each labelled (U7).
        fmt = st.radio(
            t("editor.export_format"),
            list(export.FORMATS),
            format_func=state.choices("editor.format_"),
            help=t("editor.format_help"),
            key="ed_fmt",
            horizontal=True,
        )
        if st.button(t("editor.export_start"), key="ed_export"):
            request = Request("export", text, fmt=str(fmt))
    row.radio(
        t("editor.mode"),
        ["transaction", "statements"],
        format_func=state.choices("editor.mode_"),
        key="ed_mode",
        horizontal=True,
        label_visibility="collapsed",
    )
    if request is not None:
        save_draft(rt, actor, connection)
        if not request.sql.strip():
            st.warning(t("editor.empty"))
            return None
    return request
