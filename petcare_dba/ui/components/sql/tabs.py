"""The SQL editor's tab bar: several named SQL texts per user, back after a browser reload.

The tabs live in the metadata store (`services.editor.tabs`); the session keeps their list and
the open tab's id, and the Ace box shows the open tab's text (`editor.seed`). `tab_bar` lists
the tabs once per session (a reload starts a new session and finds them again, the last one
looked at open), and offers switch, new, rename and close; each action saves the open tab
first. `autosave` stores the open tab's text and connection when they changed since the last
save, called once per rerun, so writes follow the editor's debounced change events, a Run and
a switch, never each keystroke. SQL handed over by another page opens in a new tab.
Switching runs in a callback, before the script, so a tab can bring its connection back into
the sidebar's picker.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.actor import Actor
from petcare_dba.services.editor import tabs
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import engine
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.sql import editor
from petcare_dba.ui.components.text import plain

t = state.t
PICK = "ed_tab_pick"


def _tabs() -> list[tabs.Tab]:
    return list(st.session_state.get("ed_tabs") or [])


def _active() -> tabs.Tab | None:
    wanted = st.session_state.get("ed_tab")
    return next((x for x in _tabs() if x.id == wanted), None)


def _reload(rt: Runtime, actor: Actor) -> None:
    st.session_state["ed_tabs"] = tabs.list_tabs(rt, actor)


def _show(tab: tabs.Tab) -> None:
    """Make `tab` the open one and put its text in the editor."""
    ss = st.session_state
    ss["ed_tab"] = tab.id
    ss[PICK] = tab.id
    editor.seed(tab.content)
    ss["ed_tab_saved"] = (tab.id, tab.content, tab.connection)


def autosave(rt: Runtime, actor: Actor, connection: str | None) -> None:
    """Store the open tab's text and connection when either changed since the last save."""
    ss = st.session_state
    tab = _active()
    if tab is None:
        return
    text = ss.get("ed_text", "")
    now = (tab.id, text, connection)
    if ss.get("ed_tab_saved") == now:
        return
    try:
        tabs.save_tab(rt, actor, tab.id, text, connection)
        ss["ed_tab_saved"] = now
        ss["ed_tabs"] = [
            x if x.id != tab.id else replace(x, content=text, connection=connection)
            for x in _tabs()
        ]
    except PetcareError as exc:
        ss["ed_tab_error"] = exc  # shown once; the next change tries again


def _switch(rt: Runtime, actor: Actor) -> None:
    """Callback of the tab picker: save the open tab, open the picked one (and its connection)."""
    ss = st.session_state
    autosave(rt, actor, state.chosen_connection())
    picked = next((x for x in _tabs() if x.id == ss.get(PICK)), None)
    if picked is None:
        return
    try:
        tabs.select_tab(rt, actor, picked.id)
    except PetcareError as exc:
        ss["ed_tab_error"] = exc
        _reload(rt, actor)
        return
    _show(picked)
    if picked.connection and picked.connection != ss.get("connection"):
        ss["connection"] = picked.connection  # a callback may set a widget's value
        ss["ed_loaded_for"] = picked.connection


def _new(rt: Runtime, actor: Actor, text: str = "", name: str | None = None) -> None:
    ss = st.session_state
    connection = state.chosen_connection()
    autosave(rt, actor, connection)
    taken = {x.name for x in _tabs()}
    n = len(taken) + 1
    while name is None or name in taken:
        name = t("editor.tabs.default_name", n=n)
        n += 1
    try:
        tab_id = tabs.open_tab(rt, actor, name, text, connection)
        tabs.select_tab(rt, actor, tab_id)
    except PetcareError as exc:
        ss["ed_tab_error"] = exc
        return
    _reload(rt, actor)
    opened = next(x for x in _tabs() if x.id == tab_id)
    _show(opened)


def _close(rt: Runtime, actor: Actor) -> None:
    ss = st.session_state
    tab = _active()
    if tab is None:
        return
    try:
        tabs.close_tab(rt, actor, tab.id)
    except PetcareError as exc:
        ss["ed_tab_error"] = exc
    _reload(rt, actor)
    left = _tabs()
    if not left:
        _new(rt, actor)
        return
    # The neighbour on the left, as browsers do; the first tab when the first one closed.
    before = [x for x in left if x.position < tab.position]
    nxt = before[-1] if before else left[0]
    try:
        tabs.select_tab(rt, actor, nxt.id)
    except PetcareError as exc:
        ss["ed_tab_error"] = exc
    _show(nxt)


def _rename(rt: Runtime, actor: Actor) -> None:
    ss = st.session_state
    tab = _active()
    if tab is None:
        return
    try:
        tabs.rename_tab(rt, actor, tab.id, str(ss.get(f"ed_tab_name_{tab.id}", "")))
    except PetcareError as exc:
        ss["ed_tab_error"] = exc
    _reload(rt, actor)


def _start(rt: Runtime, actor: Actor, connection: str) -> None:
    """First render of the session: find the stored tabs, or make the first from the draft."""
    _reload(rt, actor)
    found = _tabs()
    if not found:
        try:
            draft = engine.load_draft(rt, actor, connection)
        except PetcareError:
            draft = None
        _new(rt, actor, draft.content if draft else "")
        return
    last = tabs.selected(found)
    if last is not None:
        _show(last)


def tab_bar(rt: Runtime, actor: Actor, connection: str) -> None:
    """Render the tab bar above the editor; seeds the editor with the open tab's text."""
    ss = st.session_state
    if "ed_tabs" not in ss:
        try:
            _start(rt, actor, connection)
        except PetcareError as exc:
            show_error(exc)
            return
    handed = ss.get(editor.HANDOFF)
    if isinstance(handed, str) and handed.strip():
        # Another page's SQL gets its own tab instead of replacing the open one's text.
        ss.pop(editor.HANDOFF)
        _new(rt, actor, handed, t("editor.tabs.handed"))
    # The tab owns the text now: the per-connection draft no longer reseeds the editor.
    ss["ed_loaded_for"] = connection
    found = _tabs()
    if not found:
        return
    if ss.get(PICK) not in {x.id for x in found}:
        ss[PICK] = ss.get("ed_tab", found[0].id)
    # A row that sizes each control to its label and wraps (as the editor's run row), not
    # fixed-ratio columns: those cut "Renomear" and "Fechar" in a 1024 px window.
    row = st.container(horizontal=True, vertical_alignment="center")
    row.radio(
        t("editor.tabs.label"),
        [x.id for x in found],
        format_func=lambda i: plain(next((x.name for x in found if x.id == i), "?")),
        key=PICK,
        horizontal=True,
        label_visibility="collapsed",
        on_change=_switch,
        args=(rt, actor),
    )
    row.button(
        t("editor.tabs.new"),
        key="ed_tab_new",
        icon=":material/add:",
        disabled=len(found) >= tabs.MAX_TABS,
        help=t("editor.tabs.limit", n=tabs.MAX_TABS) if len(found) >= tabs.MAX_TABS else None,
        on_click=_new,
        args=(rt, actor),
    )
    with row.popover(t("editor.tabs.rename"), icon=":material/edit:"):
        active = _active()
        st.text_input(
            t("editor.tabs.name"),
            value=active.name if active else "",
            max_chars=tabs.MAX_NAME,
            key=f"ed_tab_name_{active.id if active else 0}",
        )
        st.button(
            t("editor.tabs.rename_save"), key="ed_tab_rename", on_click=_rename, args=(rt, actor)
        )
    row.button(
        t("editor.tabs.close"),
        key="ed_tab_close",
        icon=":material/close:",
        on_click=_close,
        args=(rt, actor),
    )
    error = ss.pop("ed_tab_error", None)
    if isinstance(error, PetcareError):
        show_error(error)
    tab = _active()
    if tab is not None and tab.connection and tab.connection != connection:
        st.button(
            t("editor.tabs.use_connection", name=plain(tab.connection)),
            key="ed_tab_use_conn",
            icon=":material/swap_horiz:",
            on_click=_use_connection,
            args=(tab.connection,),
        )


def _use_connection(name: str) -> None:
    st.session_state["connection"] = name  # a callback runs before the sidebar's picker
