"""Projects: my projects, and inside one its scripts (versions, diff, runs), members and settings.

Thin page: widgets live in `ui/components/projects*.py`; every read and write goes through the
services as the signed-in user, and row level security decides what they see and change.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state
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
tab_scripts, tab_members, tab_settings = st.tabs(
    [t("projects.tab_scripts"), t("projects.tab_members"), t("projects.tab_settings")]
)
with tab_scripts:
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
            with st.expander(t("projects.script_settings"), icon=":material/tune:"):
                scripts_ui.script_settings(rt, actor, project, script)
    with st.expander(t("projects.deleted_scripts"), icon=":material/delete:"):
        scripts_ui.deleted_scripts(rt, actor, project)
with tab_members:
    ui.members_panel(rt, actor, project)
with tab_settings:
    ui.settings_panel(rt, actor, project)
