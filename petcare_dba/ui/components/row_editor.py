"""Inline editing of a table's rows in the explorer (issue 19), like Supabase's table editor.

For a role that may write, on a table with a primary key, the page's rows open in
st.data_editor (cells as text; rows added at the bottom, deleted by selection). "Review changes"
asks `services.sql.table_edit` for the statements — one UPDATE/INSERT/DELETE per row, each row
found by its primary key — and shows them; "Run and save" sends them through the SQL engine
(classification, audit) and reports rows someone else changed meanwhile; "Cancel" is recorded
as cancelled. Where editing is not possible (viewer, read-only connection, view, no key) the
switch is disabled and says why; the service refuses such an edit on its own as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.services.sql import table_edit
from petcare_dba.ui import state
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.text import plain

t = state.t
PLAN = "explorer_edit_plan"
NOTE = "explorer_edit_note"


def toggle(rt: Runtime, actor: Actor, connection: str, d: explorer.TableDetail) -> bool:
    """The "Edit rows" switch, disabled with the reason when editing is not possible."""
    try:
        reason = table_edit.editable(rt, actor, connection, d)
    except PetcareError as exc:
        reason = exc.message
    reason = said(reason) if reason is not None else None
    on = st.toggle(
        t("grid.edit"),
        key="explorer_edit",
        disabled=reason is not None,
        help=t("grid.edit_blocked", reason=plain(reason)) if reason else t("grid.edit_help"),
    )
    if reason is not None:
        st.caption(t("grid.edit_blocked", reason=plain(reason)))
    return bool(on) and reason is None


def editor(
    rt: Runtime,
    actor: Actor,
    connection: str,
    d: explorer.TableDetail,
    columns: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    token: str,
) -> None:
    """The page's rows in a data editor, then review, confirm or cancel."""
    note = st.session_state.pop(NOTE, None)
    if note is not None:
        getattr(st, note[0])(note[1])
    generated = [str(c["name"]) for c in d.columns if c.get("generated")]
    frame = pd.DataFrame(list(rows), columns=list(columns), dtype="object")
    key = f"explorer_editor_{token}"
    st.caption(t("grid.edit_help"))
    st.data_editor(
        frame,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        disabled=generated,
        column_config={c: st.column_config.TextColumn(c) for c in columns},
    )
    pending: table_edit.EditPlan | None = st.session_state.get(PLAN)
    if pending is None:
        if st.button(t("grid.review"), key="explorer_review", icon=":material/rate_review:"):
            as_read = [dict(zip(columns, row, strict=True)) for row in rows]
            changes = table_edit.changes_from(
                as_read, table_edit.primary_key(d), st.session_state.get(key) or {}
            )
            if not changes:
                st.info(t("grid.no_changes"))
                return
            try:
                st.session_state[PLAN] = table_edit.plan(
                    rt, actor, connection, d.schema, d.name, changes
                )
            except PetcareError as exc:
                show_error(exc)
                return
            st.rerun()
        return
    _confirm(rt, actor, pending, key)


def _confirm(rt: Runtime, actor: Actor, pending: table_edit.EditPlan, key: str) -> None:
    st.markdown(f"**{t('grid.confirm_title')}**")
    st.code(pending.sql, language="sql")
    left, right = st.columns(2)
    if left.button(t("grid.confirm"), key="explorer_apply", type="primary", icon=":material/save:"):
        del st.session_state[PLAN]
        try:
            outcome = table_edit.apply(rt, actor, pending)
        except PetcareError as exc:
            show_error(exc, pending.sql)
            return
        st.session_state.pop(key, None)  # the grid shows the saved rows, no pending edits
        if outcome.conflicts:
            st.session_state[NOTE] = ("warning", t("grid.conflict", n=len(outcome.conflicts)))
        else:
            st.session_state[NOTE] = ("success", t("grid.saved", n=outcome.applied))
        st.rerun()
    if right.button(t("grid.cancel"), key="explorer_cancel", icon=":material/close:"):
        del st.session_state[PLAN]
        try:
            table_edit.cancel(rt, actor, pending)
        except PetcareError as exc:
            show_error(exc)
            return
        st.session_state[NOTE] = ("info", t("grid.cancelled"))
        st.rerun()
