"""Explorer: browse a connection by schema, search names/columns/comments, open a relation.

The catalog comes from one constant-cost read, cached per connection (refresh on demand); the
detail, DDL, sample data and FK picture are widgets in `ui/components/explorer.py`. A click on
a row of the relation list or the search hits opens that relation.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import explorer
from petcare_dba.ui import state
from petcare_dba.ui.components import explorer as widgets
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.format import decimal
from petcare_dba.ui.components.text import plain

t = state.t


def _open(qualified: str, choices: list[str]) -> None:
    """A clicked relation row opens that relation (the picker below follows the click)."""
    if qualified in choices:
        st.session_state["explorer_table"] = qualified


actor = state.require_actor()
rt = state.runtime()
st.title(t("explorer.title"))
name = state.chosen_connection()
if name is None:
    st.info(t("common.pick_connection"))
    st.stop()

# The refresh column fits "Atualizar catálogo" and its icon (cut to "Atualizar cat…" at
# 1280 px in a one-sixth column).
top = st.columns([3, 2, 2], vertical_alignment="bottom")
search = top[0].text_input(t("explorer.search"), key="explorer_search")
refresh = top[2].button(t("explorer.refresh"), key="explorer_refresh", icon=":material/refresh:")
try:
    cat = explorer.discover(rt, actor, name, refresh=refresh)
except PetcareError as exc:
    show_error(exc)
    st.stop()
schemas = [str(s["schema"]) for s in cat.schemas]
all_label = t("explorer.all_schemas")
picked = top[1].selectbox(t("explorer.schema"), [all_label, *schemas], key="explorer_schema")
schema = None if picked == all_label else picked
st.caption(
    t(
        "explorer.read_info",
        ms=decimal(cat.elapsed_ms, state.language()),
        statements=cat.round_trips,
        relations=len(cat.relations),
        functions=len(cat.functions),
        extensions=len(cat.extensions),
    )
)

if search.strip():
    hits = [h for h in cat.search(search) if schema is None or h.schema == schema]
    st.caption(t("explorer.hits", count=len(hits)))
    choices = [f"{h.schema}.{h.name}" for h in hits if h.kind in explorer.KINDS]
    grid.table(
        [
            {
                "schema": h.schema,
                "name": h.name,
                "kind": h.kind,
                "matched": h.matched,
                "detail": h.detail,
            }
            for h in hits
        ],
        key="explorer_hits",
        on_pick=lambda i: _open(f"{hits[i].schema}.{hits[i].name}", choices),
    )
else:
    rels = cat.top_level(schema)
    rows = widgets.relation_rows(cat, rels)
    st.caption(t("explorer.count", shown=len(rows), total=len(cat.relations)))
    choices = [f"{r.schema}.{r.name}" for r in rels]
    for r in rels:
        choices += list(r.partitions)
    grid.table(
        rows,
        key="explorer_relations",
        column_config=widgets.SIZE_COLUMNS,
        on_pick=lambda i: _open(
            f"{rows[i]['schema']}.{rows[i]['name'].removeprefix('└ ')}", choices
        ),
    )

# Drawn when opened only (a closed expander's body still runs and is sent): two more grids.
objects = st.expander(t("explorer.tab.objects"), key="explorer_objects", on_change="rerun")
if objects.open:
    with objects:
        widgets.objects(cat)

choice = st.selectbox(
    t("explorer.table"),
    list(dict.fromkeys(choices)),
    index=None,
    key="explorer_table",
    placeholder=t("common.choose"),
)
if choice is None:
    st.info(t("explorer.pick_table"))
    st.stop()
rel = cat.get(*choice.split(".", 1))
if rel is None:
    st.stop()
try:
    detail = explorer.describe(rt, actor, name, rel.schema, rel.name)
except PetcareError as exc:
    show_error(exc)
    st.stop()
st.subheader(plain(choice))
widgets.detail_tabs(rt, actor, name, detail)
