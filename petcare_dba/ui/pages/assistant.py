"""Assistant: the AI provider's status and how to enable it (conversations use this page)."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services import health
from petcare_dba.ui import state

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("assistant.title"))
component = next(c for c in health.check(rt, None).components if c.name == "ai")
if rt.settings.ai_provider == "disabled":
    st.info(t("assistant.disabled"))
    st.code(
        "export PETCARE_AI_PROVIDER=gemini\nexport PETCARE_GEMINI_API_KEY=...\npetcare-dba up",
        language="bash",
    )
elif not component.ok:
    st.warning(component.detail)
else:
    st.success(t("assistant.ready", provider=rt.settings.ai_provider))
