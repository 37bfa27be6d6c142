"""Widgets of the Backups page: new backup with progress, catalogue, verify, preview, restore.

Replacing a table needs its name typed into a text input (the confirmation names the object);
the service checks it again, so the UI cannot skip it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import backups, explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components import backups_database, grid
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.format import human_bytes
from petcare_dba.ui.components.text import plain

t = state.t


def new_backup(rt: Runtime, actor: Actor, connection: str) -> None:
    """Pick a table of the connection and back it up with a progress bar."""
    st.subheader(t("backups.new"))
    try:
        cat = explorer.discover(rt, actor, connection)
    except PetcareError as exc:
        show_error(exc)
        return
    kinds = ("table", "partitioned table", "materialized view")
    tables = [r.qualified for r in cat.relations if r.kind in kinds]
    cols = st.columns([4, 1], vertical_alignment="bottom")
    table = cols[0].selectbox(
        t("backups.table"), tables, index=None, key="backups_table", placeholder=t("common.choose")
    )
    if cols[1].button(t("backups.run"), key="backups_run", disabled=table is None, type="primary"):
        assert table is not None  # noqa: S101 - the button is disabled otherwise
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 0.5, text=human_bytes(done))

        schema, name = table.split(".", 1)
        try:
            entry = backups.backup(rt, actor, connection, schema, name, progress=progress)
        except PetcareError as exc:
            bar.empty()
            show_error(exc)
            return
        bar.progress(1.0)
        st.session_state["backups_selected"] = entry.id
        st.success(
            t(
                "backups.done",
                id=entry.id,
                table=plain(entry.table),
                rows=entry.row_count,
                size=human_bytes(entry.byte_size),
            )
        )


def catalogue(entries: list[backups.BackupEntry]) -> None:
    """The backups of this connection as a table."""
    language = state.language()
    grid.table(
        [
            {
                "id": b.id,
                "kind": b.kind,
                "table": b.table,
                "status": b.status,  # an app word: the grid shows it in the language
                "storage": b.storage,
                "rows": b.row_count,
                "size": human_bytes(b.byte_size, language),
                "by": b.created_by_name,
                "at": b.created_at,
                "verified": b.verify_ok,
                "sha256": (b.sha256 or "")[:16],
            }
            for b in entries
        ],
        key="backups_catalogue",
    )


def actions(rt: Runtime, actor: Actor, entry: backups.BackupEntry) -> None:
    """Verify, preview and restore one backup."""
    if entry.status != "ok":
        st.warning(t("backups.failed_entry", error=plain(said(entry.error or entry.status))))
        return
    if entry.kind == "database":
        _verify(rt, actor, entry, st)
        backups_database.restore_database_form(rt, actor, entry)
        return
    left, right = st.columns(2)
    _verify(rt, actor, entry, left)
    if right.button(t("backups.preview"), key="backups_preview"):
        try:
            columns, rows = backups.preview(rt, actor, entry.id)
        except PetcareError as exc:
            show_error(exc)
        else:
            st.dataframe(
                [dict(zip(columns, r, strict=True)) for r in rows], hide_index=True, width="stretch"
            )
    restore_form(rt, actor, entry)


def _verify(rt: Runtime, actor: Actor, entry: backups.BackupEntry, where: Any) -> None:
    if where.button(t("backups.verify"), key="backups_verify"):
        try:
            result = backups.verify(rt, actor, entry.id)
        except PetcareError as exc:  # the store or the backup's storage is unreachable
            show_error(exc)
            return
        if result.ok:
            st.success(t("backups.verify_ok", id=entry.id, rows=result.rows))
        else:
            st.error(
                t("backups.verify_bad", id=entry.id, problems=plain("; ".join(result.problems)))
            )


def restore_form(rt: Runtime, actor: Actor, entry: backups.BackupEntry) -> None:
    """Restore into a new table, or replace the original after typing its name."""
    st.subheader(t("backups.restore"))
    labels = {"new": t("backups.mode_new"), "replace": t("backups.mode_replace")}
    mode = st.radio(
        t("backups.mode"),
        list(labels),
        format_func=labels.__getitem__,
        key="backups_mode",
        horizontal=True,
    )
    if entry.partitioned:
        leaves = [m for m in entry.members or [] if not m.get("partitioned")]
        st.caption(t("backups.members", count=len(leaves)))
    with_indexes = False
    if mode == "new":
        into = st.text_input(
            t("backups.new_name"), value=backups.default_restore_name(entry), key="backups_into"
        )
        with_indexes = st.checkbox(t("backups.with_indexes"), key="backups_with_indexes")
        st.caption(t("backups.structure_note"))
        confirm = None
    else:
        into = None
        confirm = st.text_input(
            t("backups.confirm", table=plain(entry.table)), key="backups_confirm"
        )
    if st.button(t("backups.restore"), key="backups_restore", type="primary"):
        if mode == "replace" and confirm != entry.table:
            st.warning(t("backups.confirm_needed"))
            return
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 0.5)

        try:
            result = backups.restore(
                rt,
                actor,
                entry.id,
                into=into or None,
                replace=mode == "replace",
                confirm=confirm,
                with_indexes=with_indexes,
                progress=progress,
            )
        except PetcareError as exc:
            bar.empty()
            show_error(exc)
            return
        st.success(
            t(
                "backups.restored",
                rows=result.rows,
                table=plain(result.table),
                verified=t("backups.verified_suffix") if result.verified else "",
            )
        )
        if result.members:
            st.info(t("backups.partitions", members=plain(", ".join(result.members))))
        if result.recreated:
            st.info(t("backups.recreated", items=plain(", ".join(result.recreated))))
        for item in result.not_recreated:
            st.warning(t("backups.not_recreated", item=plain(item)))
        for moved in result.sequences:
            st.info(t("backups.sequence_advanced", sequence=plain(moved)))
        for warning in result.warnings:
            st.warning(plain(warning))
    history = backups.restores(rt, actor, entry.id)
    if history:
        st.caption(t("backups.restores"))
        shown = [{**h, "error": said(h["error"]) if h["error"] else h["error"]} for h in history]
        grid.table(shown, key="backups_restores")
