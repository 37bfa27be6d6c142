"""Explorer: the relations of the chosen connection with sizes, estimates and RLS status."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import catalog
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error

t = state.t
actor = state.require_actor()
st.title(t("explorer.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
search = st.text_input(t("explorer.search"), key="explorer_search")
try:
    tables = catalog.list_tables(state.runtime(), actor, name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
needle = search.strip().lower()
rows = [
    tb
    for tb in tables
    if not needle or needle in f"{tb.schema}.{tb.name} {tb.comment or ''}".lower()
]
st.caption(t("explorer.count", shown=len(rows), total=len(tables)))
st.dataframe(
    [
        {
            "schema": r.schema,
            "name": r.name,
            "kind": r.kind,
            "rows (est.)": r.estimated_rows,
            "size": r.total_bytes,
            "RLS": r.rls_enabled,
            "comment": r.comment or "",
        }
        for r in rows
    ],
    width="stretch",
    hide_index=True,
    column_config={"size": st.column_config.NumberColumn(format="bytes")},
)
