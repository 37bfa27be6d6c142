"""The Settings page's editor of run-time settings: the list, one setting's form, set and reset.

Each editable setting (the registry's `runtime_editable` allow-list) shows its effective value,
its default and where it comes from (default, override, or pinned by the file, environment or a
flag: then it is locked, since configuration wins). A secret is an empty password field and shows
only as set/unset; its value never comes back to the browser. Every change goes through
services/settings_admin.py, which checks, seals, audits and applies it. Where a value comes from
(`source`, here and on the page's list of all settings) is said in the user's language, and a
refused value's message and hint (the setting's help) too, by `show_error`.
"""

from __future__ import annotations

import streamlit as st

from petcare_dba.errors import PetcareError
from petcare_dba.services import settings_admin
from petcare_dba.services.actor import Actor
from petcare_dba.services.runtime import Runtime
from petcare_dba.ui import i18n, state
from petcare_dba.ui.components import grid
from petcare_dba.ui.components.errors import show_error
from petcare_dba.ui.components.text import plain

t = state.t


def _table(rows: list[settings_admin.EditableSetting]) -> None:
    st.dataframe(
        [
            {
                t("settings_edit.col_name"): r.name,
                # set/unset (a secret) and yes/no (a flag) are app words, shown in the language
                t("settings_edit.col_value"): _word(r, r.value),
                t("settings_edit.col_default"): _word(r, r.default),
                t("settings_edit.col_source"): source(r.source),
                t("settings_edit.col_locked"): r.locked,
                t("settings_edit.col_changed_by"): r.updated_by or "",
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


def _word(row: settings_admin.EditableSetting, value: str) -> str:
    return str(grid.word(value)) if row.secret or row.kind == "bool" else value


def source(value: str) -> str:
    """Where a setting's value comes from, in the language (`default`, `env`, `file`, `cli`,
    `override`); another program's variable (`env GOOGLE_API_KEY`) keeps its name."""
    kind, _, variable = value.partition(" ")
    if kind == "env" and variable:
        return t("settings_edit.source_env_var", var=variable)
    return str(grid.word(value))


def _input(row: settings_admin.EditableSetting) -> str:
    """The widget for the new value, as text (the service checks and converts it); its key is
    `set_value_<name>`, which the buttons' callback reads."""
    key = f"set_value_{row.name}"
    label = t("settings_edit.new_value")
    if row.kind == "bool":
        options = ["true", "false"]
        return str(st.selectbox(label, options, index=options.index(row.value), key=key))
    if row.choices:
        options = list(row.choices)
        index = options.index(row.value) if row.value in options else 0
        return str(st.selectbox(label, options, index=index, key=key))
    if row.secret:
        return st.text_input(label, type="password", key=key, max_chars=4096)
    if row.bounds:
        st.caption(t("settings_edit.bounds", low=row.bounds[0], high=row.bounds[1]))
    return st.text_input(label, value=row.value, key=key, max_chars=4096)


def _act(rt: Runtime, actor: Actor, name: str, reset: bool) -> None:
    """The buttons' callback: it runs before the page is drawn, so the table shows the change."""
    try:
        if reset:
            settings_admin.reset(rt, actor, name)
        else:
            settings_admin.set_value(rt, actor, name, st.session_state.get(f"set_value_{name}", ""))
    except PetcareError as exc:
        st.session_state["set_outcome"] = exc
    else:
        st.session_state["set_outcome"] = t(
            "settings_edit.was_reset" if reset else "settings_edit.saved", name=name
        )
        if not reset:  # a password field keeps no secret in the session once it is stored
            st.session_state.pop(f"set_value_{name}", None)


def render(rt: Runtime, actor: Actor) -> None:
    """The editable settings of this deployment, and a form for the one picked."""
    st.subheader(t("settings_edit.title"))
    st.caption(t("settings_edit.caption", seconds=rt.settings.settings_refresh_s))
    outcome = st.session_state.pop("set_outcome", None)
    if isinstance(outcome, PetcareError):
        show_error(outcome)
    elif outcome:
        st.success(plain(str(outcome)))  # it names a setting: text, not markdown
    rows = settings_admin.list_editable(rt, actor)
    _table(rows)
    by_name = {r.name: r for r in rows}
    name = st.selectbox(t("settings_edit.pick"), list(by_name), key="set_pick")
    row = by_name[str(name)]
    st.caption(plain(t(i18n.help_key(row.name))))  # the registry's help, in the language
    st.caption(
        t(
            "settings_edit.current",
            value=plain(_word(row, row.value)),
            source=plain(source(row.source)),
        )
        + " · "
        + t("settings_edit.default", value=plain(_word(row, row.default)))
    )
    if row.locked:
        st.info(t("settings_edit.locked", source=plain(source(row.source))), icon=":material/lock:")
        return
    _input(row)
    save, reset = st.columns(2)
    save.button(
        t("settings_edit.save"),
        key="set_save",
        type="primary",
        on_click=_act,
        args=(rt, actor, row.name, False),
    )
    if row.source == "override":
        reset.button(
            t("settings_edit.reset"),
            key="set_reset",
            on_click=_act,
            args=(rt, actor, row.name, True),
        )
