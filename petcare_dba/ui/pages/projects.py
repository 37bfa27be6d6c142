"""Projects: the SQL projects you own or belong to, and a form to create one."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import projects
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("projects.title"))
with st.expander(t("projects.new"), icon=":material/add:"):
    with st.form("new_project", clear_on_submit=True):
        name = st.text_input(t("projects.name"))
        description = st.text_area(t("projects.description"))
        if st.form_submit_button(t("projects.create"), type="primary"):
            try:
                projects.create(rt, actor, name, description)
                st.success(t("projects.created", name=name))
            except PetcareError as exc:
                show_error(exc)
search = st.text_input(t("projects.search"), key="projects_search")
rows = projects.list_projects(rt, actor, search)
if not rows:
    st.info(t("projects.none"))
else:
    st.dataframe(
        [
            {
                "name": p.name,
                "role": p.my_role,
                "scripts": p.scripts,
                "created by": p.created_by,
                "updated": p.updated_at,
                "description": p.description,
            }
            for p in rows
        ],
        hide_index=True,
        width="stretch",
    )
