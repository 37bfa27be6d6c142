"""Widgets of the Explorer page: relation list, search hits, table detail tabs, sample data.

Everything here renders what `services.explorer` returns; no SQL, no psycopg. Every table is the
one result grid (`components.grid`). Sample data is read page by page on the server (sort,
filters as bound values), shown as text with NULL as NULL, a clicked row opening as a record;
roles that may write edit the rows of a keyed table inline (`components.row_editor`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import explorer
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import state
from petcare_dba.ui.components import grid, row_editor
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import human_bytes
from petcare_dba.ui.components.text import plain, plain_all

t = state.t


def relation_rows(cat: explorer.Catalog, rels: list[explorer.Relation]) -> list[dict[str, Any]]:
    """Table rows for a list of relations (partitions indented under their parent)."""
    out = []
    for rel in rels:
        out.append(_row(rel, rel.name))
        for child in rel.partitions:
            part = cat.get(*child.split(".", 1))
            if part is not None:
                out.append(_row(part, "└ " + part.name))
    return out


def _row(rel: explorer.Relation, label: str) -> dict[str, Any]:
    return {
        "schema": rel.schema,
        "name": label,
        "kind": rel.kind,
        "rows_est": rel.estimated_rows,
        "size": rel.total_bytes,
        "index": rel.index_bytes,
        "toast": rel.toast_bytes,
        "owner": rel.owner,
        "rls": rel.rls_enabled,
        "vacuum": rel.last_vacuum,
        "analyze": rel.last_analyze,
        "comment": rel.comment or "",
    }


SIZE_COLUMNS = {
    name: st.column_config.NumberColumn(format="bytes") for name in ("size", "index", "toast")
}


def _table(
    rows: list[dict[str, Any]] | tuple[dict[str, Any], ...], keys: tuple[str, ...], key: str
) -> None:
    if not rows:
        st.caption(t("explorer.none"))
        return
    grid.table(
        [{k: r.get(k) for k in keys} for r in rows],
        key=key,
        column_config={"bytes": st.column_config.NumberColumn(format="bytes")},
    )


def detail_tabs(rt: Runtime, actor: Actor, connection: str, d: explorer.TableDetail) -> None:
    """The detail of one relation in tabs."""
    head = d.head
    st.caption(
        t(
            "explorer.detail_caption",
            kind=plain(d.kind),
            owner=plain(head["owner"]),
            rows=head["estimated_rows"] if head["estimated_rows"] is not None else "?",
            table=human_bytes(
                (head["total_bytes"] or 0) - (head["index_bytes"] or 0) - (head["toast_bytes"] or 0)
            ),
            indexes=human_bytes(head["index_bytes"]),
            toast=human_bytes(head["toast_bytes"]),
            rls="on" if head["rls_enabled"] else "off",
        )
    )
    if head.get("comment"):
        st.markdown(f"_{plain(head['comment'])}_")
    if head.get("children"):
        st.caption(t("explorer.partitions", names=plain_all(head["children"])))
    tabs = st.tabs(
        [
            t("explorer.tab.columns"),
            t("explorer.tab.constraints"),
            t("explorer.tab.indexes"),
            t("explorer.tab.more"),
            t("explorer.tab.ddl"),
            t("explorer.tab.data"),
            t("explorer.tab.relations"),
        ]
    )
    with tabs[0]:
        _table(
            d.columns,
            ("name", "type", "not_null", "default", "identity", "comment"),
            "explorer_columns",
        )
    with tabs[1]:
        _table(d.constraints, ("name", "type", "definition", "validated"), "explorer_constraints")
    with tabs[2]:
        _table(d.indexes, ("name", "bytes", "scans", "valid", "definition"), "explorer_indexes")
    with tabs[3]:
        st.markdown(f"**{t('explorer.triggers')}**")
        _table(d.triggers, ("name", "enabled", "definition"), "explorer_triggers")
        st.markdown(f"**{t('explorer.policies')}**")
        _table(
            d.policies,
            ("name", "permissive", "command", "roles", "using_expr", "check_expr"),
            "explorer_policies",
        )
        st.markdown(f"**{t('explorer.grants')}**")
        _table(d.grants, ("grantee", "privilege", "grantable", "grantor"), "explorer_grants")
    with tabs[4]:
        st.code(d.ddl, language="sql")
    with tabs[5]:
        sample_data(rt, actor, connection, d)
    with tabs[6]:
        if d.foreign_keys:
            st.graphviz_chart(explorer.neighbourhood_dot(d), width="stretch")
        else:
            st.caption(t("explorer.no_fks"))


def sample_data(rt: Runtime, actor: Actor, connection: str, d: explorer.TableDetail) -> None:
    """Server-side pages of the relation's rows with sort and one filter."""
    names = [c["name"] for c in d.columns]
    c1, c2, c3, c4, c5 = st.columns([2, 1, 2, 1, 2])
    sort = c1.selectbox(t("explorer.sort"), ["", *names], key="explorer_sort")
    descending = c2.checkbox(t("explorer.descending"), key="explorer_desc")
    column = c3.selectbox(t("explorer.filter_column"), ["", *names], key="explorer_fcol")
    op = c4.selectbox(t("explorer.filter_op"), explorer.OPERATORS, key="explorer_fop")
    value = c5.text_input(t("explorer.filter_value"), key="explorer_fval")
    page = int(st.number_input(t("explorer.page"), min_value=1, value=1, key="explorer_page")) - 1
    filters: list[tuple[str, str, str | None]] = []
    if column and (value or op in ("is null", "is not null")):
        filters.append((column, op, value or None))
    try:
        result = explorer.sample(
            rt,
            actor,
            connection,
            d,
            page=page,
            sort=sort or None,
            descending=descending,
            filters=filters,
        )
    except PetcareError as exc:
        show_error(exc)
        return
    if row_editor.toggle(rt, actor, connection, d):
        token = f"{page}_{abs(hash((d.schema, d.name, sort, descending, tuple(filters))))}"
        row_editor.editor(rt, actor, connection, d, result.columns, result.rows, token)
    else:
        grid.result(result.columns, result.rows, key="explorer_data")
    st.caption(
        t(
            "explorer.page_info",
            page=page + 1,
            rows=len(result.rows),
            more=t("explorer.more") if result.has_more else "",
        )
    )


def objects(cat: explorer.Catalog) -> None:
    """Functions and extensions of the catalog."""
    grid.table(
        [
            {
                "schema": f.schema,
                "name": f.name,
                "arguments": f.arguments,
                "kind": f.kind,
                "result": f.result,
                "language": f.language,
                "owner": f.owner,
                "security_definer": f.security_definer,
            }
            for f in cat.functions
        ],
        key="explorer_functions",
    )
    grid.table(
        [{"extension": e.name, "version": e.version, "schema": e.schema} for e in cat.extensions],
        key="explorer_extensions",
    )
