""" "Save to project" for the SQL editor: the editor's text as a new script or a new version.

The SQL editor page calls `save_to_project(rt, actor, sql_text)`; it lists the projects the user
may write (owner or editor, active), the scripts of the chosen one plus "new script", and saves
through `scripts.save` (append-only: saving onto an existing script adds a version, it never
overwrites one).
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import projects
from petcare_dba.services.actor import Actor
from petcare_dba.services.projects import scripts
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t
NEW = 0


def save_to_project(rt: Runtime, actor: Actor, sql_text: str) -> None:
    """A popover that saves `sql_text` into a project script."""
    with st.popover(t("projects.save_to_project"), icon=":material/save:"):
        writable = [p for p in projects.list_projects(rt, actor, archived=False) if p.can_write]
        if not writable:
            st.caption(t("projects.no_writable"))
            return
        by_id = {p.id: p for p in writable}
        pid = st.selectbox(
            t("projects.open"),
            list(by_id),
            key="projects_save_project",
            format_func=lambda i: by_id[i].name,
        )
        items = {s.id: s for s in scripts.list_scripts(rt, actor, pid)}
        sid = st.selectbox(
            t("projects.script"),
            [NEW, *items],
            key="projects_save_script",
            format_func=lambda i: t("projects.new_script") if i == NEW else items[i].name,
        )
        name = st.text_input(t("projects.script_name"), key="projects_save_name")
        message = st.text_input(t("projects.message"), key="projects_save_message")
        if st.button(t("projects.save_version"), key="projects_save_go", type="primary"):
            try:
                result = scripts.save(
                    rt, actor, pid, sid if sid != NEW else name, sql_text, message
                )
            except PetcareError as exc:
                show_error(exc)
            else:
                st.success(t("projects.saved_to", project=plain(by_id[pid].name), v=result.version))
