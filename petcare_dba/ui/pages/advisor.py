"""Advisor: lint findings for the chosen connection, each with its doc and remediation SQL."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import advisor
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
st.title(t("advisor.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
try:
    result = advisor.run(state.runtime(), actor, name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
docs = {lint.name: lint.doc for lint in advisor.lints()}
st.caption(t("advisor.summary", n=len(result.findings), lints=len(docs)))
for finding in result.findings:
    with st.expander(f"{finding.level} · {finding.title} · {finding.object}"):
        st.write(finding.detail)
        st.caption(docs.get(finding.name, ""))
        st.code(finding.remediation, language="sql")
for lint_name, error in result.unavailable:
    st.warning(t("advisor.unavailable", name=lint_name, error=error))
