"""Backups (dba): back up a table or the whole database of the chosen connection, browse the
catalogue (kind and storage per backup), verify, preview and restore. Widgets are in
`ui/components/backups.py` and `backups_database.py`."""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.messages import say
from petcare_dba.services import backups
from petcare_dba.ui import state
from petcare_dba.ui.components import backups as widgets
from petcare_dba.ui.components import backups_database as whole
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import moment
from petcare_dba.ui.components.text import plain

t = state.t
actor = state.require_actor()
rt = state.runtime()
st.title(t("backups.title"))
st.caption(t("backups.store", path=plain(backups.storage.describe(rt.settings))))
if rt.settings.backup_retention_days > 0:
    st.caption(t("backups.retention", days=rt.settings.backup_retention_days))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()
try:
    actor.require("dba", say("msg.access.backups"))
    widgets.new_backup(rt, actor, name)
    whole.whole_database(rt, actor, name)
    entries = backups.list_backups(rt, actor, name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
st.subheader(t("backups.catalogue"))
if not entries:
    st.info(t("backups.none"))
    st.stop()
widgets.catalogue(entries)
ids = [b.id for b in entries]
lang, tz = state.language(), state.timezone()
selected = st.session_state.get("backups_selected")
choice = st.selectbox(
    t("backups.pick"),
    ids,
    index=ids.index(selected) if selected in ids else 0,
    format_func=lambda i: next(
        f"{b.id} · {b.table} · {moment(b.created_at, lang, tz)} · {t('common.outcome.' + b.status)}"
        for b in entries
        if b.id == i
    ),
    key="backups_pick",
)
entry = next(b for b in entries if b.id == choice)
widgets.actions(rt, actor, entry)
