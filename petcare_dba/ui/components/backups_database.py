"""Widgets of the Backups page for whole-database backups: back up, verify, restore into new.

A whole-database backup is a pg_dump archive: it restores only into a NEW database on the
connection's server (the service refuses the source's name and an existing database).
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import backups
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import human_bytes
from petcare_dba.ui.components.text import plain

t = state.t


def _bar() -> tuple[st.delta_generator.DeltaGenerator, backups.Progress]:
    bar = st.progress(0.0)

    def progress(done: int, total: int) -> None:
        bar.progress(
            min(1.0, done / total) if total else 0.5,
            text=t("backups.tables_done", done=done, total=total),
        )

    return bar, progress


def whole_database(rt: Runtime, actor: Actor, connection: str) -> None:
    """The "Back up the whole database" button, with tables done / total."""
    if not st.button(t("backups.database_run"), key="backups_database_run"):
        return
    bar, progress = _bar()
    try:
        entry = backups.backup_database(rt, actor, connection, progress=progress)
    except PetcareError as exc:
        bar.empty()
        show_error(exc)
        return
    bar.progress(1.0)
    st.session_state["backups_selected"] = entry.id
    st.success(
        t(
            "backups.database_done",
            id=entry.id,
            database=plain(entry.table_name),
            tables=entry.row_count,
            size=human_bytes(entry.byte_size),
            storage=plain(entry.storage),
        )
    )


def restore_database_form(rt: Runtime, actor: Actor, entry: backups.BackupEntry) -> None:
    """Restore a whole-database backup into a new database."""
    st.subheader(t("backups.restore"))
    name = st.text_input(
        t("backups.new_database"),
        value=f"{entry.table_name}_restored_{entry.id}"[:63],
        key="backups_into_database",
    )
    if not st.button(t("backups.restore"), key="backups_restore_database", type="primary"):
        return
    bar, progress = _bar()
    try:
        made = backups.restore_database(rt, actor, entry.id, name.strip(), progress=progress)
    except PetcareError as exc:
        bar.empty()
        show_error(exc)
        return
    bar.progress(1.0)
    st.success(t("backups.database_restored", id=entry.id, database=plain(made)))
