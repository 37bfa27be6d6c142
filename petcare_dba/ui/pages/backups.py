"""Backups (dba): where table backups are kept and what the store holds."""

from __future__ import annotations

import streamlit as st

from petcare_dba.ui import state

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("backups.title"))
store = rt.settings.data_path / "backups"
st.caption(t("backups.store", path=str(store)))
files = sorted(store.glob("*/manifest.json")) if store.exists() else []
if not files:
    st.info(t("backups.none"))
else:
    st.dataframe([{"backup": f.parent.name} for f in files], hide_index=True, width="stretch")
