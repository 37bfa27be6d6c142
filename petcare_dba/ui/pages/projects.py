"""Projects: my projects, and inside one its scripts (versions, diff, runs), members and settings.

Thin page: widgets live in `ui/components/projects*.py`; every read and write goes through the
services as the signed-in user, and row level security decides what they see and change.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.services.projects import Project
from petcare_dba.ui import state
from petcare_dba.ui.components import tabs
from petcare_dba.ui.components.projects import overview as ui
from petcare_dba.ui.components.projects import runs as runs_ui
from petcare_dba.ui.components.projects import scripts as scripts_ui

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("projects.title"))
ui.show_flash()
ui.create_and_import(rt, actor)
project = ui.pick_project(rt, actor)
if project is None:
    st.stop()

st.divider()
ui.header(rt, actor, project)


def scripts_tab(project: Project) -> None:
    """A script's editor, versions, runs and settings; the deleted scripts."""
    script = scripts_ui.pick_script(rt, actor, project)
    if script is not None or project.can_write:
        scripts_ui.editor(rt, actor, project, script)
    if script is not None:
        with st.expander(t("projects.history"), expanded=True, icon=":material/history:"):
            scripts_ui.history_and_diff(rt, actor, project, script)
        with st.expander(t("projects.run_title"), expanded=True, icon=":material/play_arrow:"):
            runs_ui.run_panel(rt, actor, project, script)
            runs_ui.history(rt, actor, project, script)
        if project.can_write:
            settings = st.expander(
                t("projects.script_settings"),
                icon=":material/tune:",
                key="projects_script_settings",
                on_change="rerun",
            )
            if settings.open:
                with settings:
                    scripts_ui.script_settings(rt, actor, project, script)
    # Closed expanders: drawn (and the deleted scripts read) only once opened.
    deleted = st.expander(
        t("projects.deleted_scripts"),
        icon=":material/delete:",
        key="projects_deleted",
        on_change="rerun",
    )
    if deleted.open:
        with deleted:
            scripts_ui.deleted_scripts(rt, actor, project)


# Only the open tab runs: members and settings read nothing while the scripts are shown.
at, body = tabs.selected(
    [t("projects.tab_scripts"), t("projects.tab_members"), t("projects.tab_settings")],
    key="projects_tab",
)
with body:
    if at == 0:
        scripts_tab(project)
    elif at == 1:
        ui.members_panel(rt, actor, project)
    else:
        ui.settings_panel(rt, actor, project)
