"""Advisor widgets: a finding with its doc, remediation, "open in editor" and exclusion.

"Open the fix in the editor" puts the remediation SQL into `st.session_state["editor_sql"]` (the
SQL editor's text area key) and switches page, so the fix runs through the editor's safety
checks and confirmations, never directly from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import advisor
from petcare_dba.services.actor import Actor
from petcare_dba.services.assistant import prompts
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui.components.assistant import ask_about
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain, trusted

ICONS = {
    "ERROR": ":red[:material/error:]",
    "WARN": ":orange[:material/warning:]",
    "INFO": ":blue[:material/info:]",
}
BADGES = {"new": "violet", "resolved": "green"}  # an open finding carries no badge


def open_in_editor(sql: str) -> None:
    """Hand the SQL to the editor page."""
    st.session_state["editor_sql"] = sql
    st.switch_page("pages/sql_editor.py")


def title(t: Callable[..., str], f: advisor.Finding) -> str:
    """The lint's title in the UI language (a lint without a catalogue entry keeps its own)."""
    key = f"advisor.lint.{f.name}"
    text = t(key)
    return f.title if text == key else text


def badge(t: Callable[..., str], status: str) -> str:
    """The status badge of a finding ("new", "resolved") in the UI language, else nothing."""
    color = BADGES.get(status)
    return f":{color}-badge[{plain(t(f'advisor.badge.{status}'))}]" if color else ""


def finding(
    t: Callable[..., str],
    rt: Runtime,
    actor: Actor,
    conn: str,
    f: advisor.Finding,
    doc: str,
    index: int,
) -> None:
    """One finding in an expander (key `adv_open_<index>`), its body drawn when opened."""
    label = (
        f"{ICONS.get(f.level, '')} {plain(f.level)} · {plain(title(t, f))} · {plain(f.object)} "
        f"{badge(t, f.status)}"
    )
    # A closed expander's body still runs and is sent; a run lists dozens of findings, so each
    # body (doc, fix, buttons) is drawn only once its expander is opened (a rerun).
    box = st.expander(label, key=f"adv_open_{index}", on_change="rerun")
    if not box.open:
        return
    with box:
        # The detail may quote other sessions' statement text (pg_stat_activity): text only.
        st.markdown(plain(f.detail))
        if doc:
            st.caption(trusted(doc))  # the lint's own documentation, shipped with the app
        st.code(f.remediation, language="sql")
        cols = st.columns(3)
        if cols[0].button(t("advisor.open_in_editor"), key=f"adv_edit_{index}"):
            open_in_editor(f.remediation)
        if rt.settings.ai_provider != "disabled" and cols[2].button(
            t("advisor.ask_ai"), key=f"adv_ai_{index}", icon=":material/smart_toy:"
        ):
            ask_about(prompts.fix_finding(f))
        if actor.at_least("dba") and cols[1].button(t("advisor.exclude"), key=f"adv_ex_{index}"):
            try:
                advisor.exclude(rt, actor, conn, f.cache_key, "excluded from the advisor page")
                st.toast(t("advisor.excluded_done", key=plain(f.cache_key)))
            except PetcareError as exc:
                show_error(exc)


def exclusions(
    t: Callable[..., str],
    rt: Runtime,
    actor: Actor,
    conn: str,
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Excluded cache keys (`advisor.stored`) with an "include again" button for dbas."""
    if not rows:
        return
    with st.expander(t("advisor.exclusions", n=len(rows))):
        for i, row in enumerate(rows):
            cols = st.columns([4, 1])
            cols[0].write(
                f"{plain(row['cache_key'])} — {plain(row['reason'])} ({plain(row['created_by'])})"
            )
            if actor.at_least("dba") and cols[1].button(t("advisor.include"), key=f"adv_in_{i}"):
                try:
                    advisor.include(rt, actor, conn, row["cache_key"])
                    st.rerun()
                except PetcareError as exc:
                    show_error(exc)
