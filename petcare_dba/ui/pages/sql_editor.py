"""SQL editor: write SQL for the chosen connection; it is classified before anything runs."""

from __future__ import annotations

import streamlit as st

from petcare_dba.services import connections, sql_safety
from petcare_dba.ui import state

t = state.t
actor = state.require_actor()
st.title(t("editor.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
conn = connections.get(state.runtime(), actor, name)
sql_text = st.text_area(t("editor.sql"), height=240, key="editor_sql")
if sql_text.strip():
    found = sql_safety.classify_script(sql_text)
    decision = sql_safety.decide_script(found, actor.role, conn.read_only)
    st.dataframe(
        [
            {
                "#": c.index + 1,
                "kind": str(c.kind),
                "read-only": c.read_only,
                "destructive": c.destructive,
                "objects": ", ".join(c.objects),
                "reasons": "; ".join(c.reasons),
            }
            for c in found
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(t("editor.decision", decision=type(decision).__name__))
