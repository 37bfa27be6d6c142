"""Rendering what the SQL editor produced: result grids, errors, plans and exports.

`outcome` shows the last outcome in `st.session_state["ed_outcome"]`: each statement's rows in
the one result grid (`components.grid`: column types, row count, elapsed time, truncation
notice, pages of the retained rows behind first/previous/next/last buttons, a clicked row as a
record, "fetch more" which re-runs a read-only query with a larger cap and says so), errors
through the one error component with the position marked, EXPLAIN plans as an indented tree
with the costliest nodes flagged plus the raw JSON, and an export's download button. Cells are
the one value formatter's text (`services.sql.values`): NULL is a grey NULL, never `None`.
A declined confirmation shows as cancelled (it is recorded 'cancelled', not 'refused').
`error_markers` turns an error position into an Ace annotation for the editor gutter.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services.sql import ExportResult, QueryResult, RunResult
from petcare_dba.ui import state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import said, show_error
from petcare_dba.ui.components.format import decimal, human_bytes
from petcare_dba.ui.components.sql.editor import Request
from petcare_dba.ui.components.text import plain

t = state.t
FILE_NAMES = {
    "csv": "export.csv",
    "csv_spreadsheet": "export-for-spreadsheets.csv",
    "parquet": "export.parquet",
    "jsonl": "export.jsonl",
}
PAGE_SIZE = 200


def _grid(result: QueryResult, key: str) -> None:
    grid.result(
        result.columns,
        result.rows,
        key=key,
        oids=result.column_oids,
        types=result.column_types,
        page_size=PAGE_SIZE,
    )
    st.caption(
        " · ".join(
            f"{plain(n)}: {plain(k)}"
            for n, k in zip(grid.unique(result.columns), result.column_types, strict=False)
        )
    )


def _statement_text(result: RunResult, index: int | None) -> str | None:
    for c in result.classifications:
        if c.index == index:
            return c.text
    return None


def _run(result: RunResult, req: Request) -> None:
    for i, query in enumerate(result.results):
        st.markdown(
            "**"
            + t(
                "editor.result_head",
                n=query.statement_index + 1,
                tag=plain(query.command_tag),
                ms=decimal(query.elapsed_ms, state.language()),
            )
            + "**"
        )
        if query.columns:
            st.caption(t("editor.rows", rows=query.row_count))
            _grid(query, f"ed_grid_{i}")
        if query.truncated:
            st.warning(t("editor.truncated", reason=plain(query.truncated_reason or "")))
            c = next((c for c in result.classifications if c.index == query.statement_index), None)
            if c is not None and c.read_only and len(result.classifications) == 1:
                limit = max(len(query.rows), 1) * 2
                if st.button(t("editor.fetch_more", rows=limit), key=f"ed_more_{i}"):
                    st.session_state["ed_request"] = replace(req, kind="run", max_rows=limit)
                    st.rerun()
                st.caption(t("editor.fetch_more_note"))
    if result.error is not None:
        show_error(result.error, _statement_text(result, result.error_index) or req.sql)
        remember_error(result.error)
        if result.mode == "transaction" and len(result.classifications) > 1:
            st.caption(t("editor.nothing_committed"))
    elif result.mode == "explicit":
        st.caption(t("editor.tx_not_committed"))
    for warning in result.warnings:
        st.warning(plain(warning))


def _export(result: ExportResult) -> None:
    st.success(
        t(
            "editor.exported",
            rows=result.rows,
            size=human_bytes(result.bytes),
            ms=f"{result.elapsed_ms:.0f}",
        )
    )
    if result.truncated:
        st.warning(t("editor.export_capped", rows=result.max_rows))
    path = st.session_state.get("ed_export_path")
    if path and os.path.exists(path):
        mime = {"parquet": "application/vnd.apache.parquet", "jsonl": "application/jsonl"}.get(
            result.fmt, "text/csv"
        )
        st.download_button(
            t("editor.download"),
            data=lambda: open(path, "rb"),
            file_name=FILE_NAMES.get(result.fmt, "export.bin"),
            mime=mime,
            key="ed_download",
            icon=":material/download:",
            on_click="ignore",
        )


def _fresh_grids(out: dict[str, Any]) -> None:
    """A new outcome starts its grids on their first page with no row picked."""
    if st.session_state.get("ed_grid_outcome") is not out:
        for name in [k for k in st.session_state if str(k).startswith("ed_grid_")]:
            del st.session_state[name]
        st.session_state["ed_grid_outcome"] = out


def outcome() -> None:
    """Render the last outcome, if any."""
    out: dict[str, Any] | None = st.session_state.get("ed_outcome")
    if not out:
        return
    req: Request = out["request"]
    error: PetcareError | None = out["error"]
    _fresh_grids(out)
    if out.get("declined"):
        st.info(t("editor.declined"))
        return
    if error is not None:
        show_error(error, req.sql)
        remember_error(error)
        return
    result = out["result"]
    if isinstance(result, RunResult):
        _run(result, req)
    elif isinstance(result, ExportResult):
        _export(result)


def error_markers() -> list[dict[str, object]]:
    """An Ace gutter annotation at the last error's position in the editor text, if known."""
    out = st.session_state.get("ed_outcome") or {}
    error = out.get("error")
    result = out.get("result")
    request = out.get("request")
    sql = request.sql if request is not None else ""
    if error is None and isinstance(result, RunResult):
        error = result.error
        sql = _statement_text(result, result.error_index) or sql
    if not isinstance(error, PetcareError) or not error.position:
        return []
    text = st.session_state.get("ed_text", "")
    base = text.find(sql) if sql else -1
    offset = max(0, base) + error.position - 1
    row = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return [{"row": row, "column": column, "type": "error", "text": said(error.message)}]


def remember_error(error: PetcareError) -> None:
    """Keep the last error for "Why did this fail?" and the assistant's context."""
    st.session_state["editor_last_error"] = f"{error.sqlstate or ''} {error.message}".strip()
    st.session_state["editor_last_error_detail"] = {
        "sqlstate": error.sqlstate,
        "message": error.message,
    }
